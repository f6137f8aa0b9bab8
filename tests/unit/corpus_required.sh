#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The RFC 4475/5118 torture messages are part of the repository: without
# tests/corpus/rfc the core's unit tests must fail, never skip.
#   corpus_required.sh TEST_CORE CORPUS_DIR
# KTAP on stdout; exit 1 if the test failed.
set -u
TEST_CORE=$1
CORPUS=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "KTAP version 1"
echo "1..1"
desc="test_core fails, skipping nothing, when tests/corpus/rfc is missing"

# the corpus as it is, but for rfc/
mkdir "$TMP/corpus"
for f in "$CORPUS"/*; do
	[ "${f##*/}" = rfc ] || cp -r "$f" "$TMP/corpus/"
done
"$TEST_CORE" "$TMP/corpus" >"$TMP/out" 2>&1
rc=$?
rows=$(grep -v '^#' "$CORPUS/torture.tsv" | grep -c .)
unread=$(grep -c '^# cannot read rfc' "$TMP/out")
if [ "$rc" -ne 1 ]; then
	why="exit status $rc, want 1"
elif grep -qi '# *skip' "$TMP/out"; then
	why="a test was skipped: $(grep -i -m1 '# *skip' "$TMP/out")"
elif [ "$unread" -ne "$rows" ]; then
	why="$unread of the $rows torture messages failed as unreadable"
elif ! grep -q '^not ok .* torture.tsv has a verdict for every message' "$TMP/out"; then
	why="the manifest check did not fail"
else
	echo "ok 1 - $desc"
	exit 0
fi
echo "not ok 1 - $desc"
echo "# $why"
exit 1
