// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the pure-C core (kmod/core), built with ASan + UBSan.
 *
 *   test_core CORPUS_DIR
 *
 * CORPUS_DIR is tests/corpus: cases.tsv, the messages and their expected
 * outputs; torture.tsv, the verdicts of the RFC 4475/5118 messages in rfc/
 * (a message that cannot be read fails its test: the corpus is part of the
 * repository, never optional).
 * Output is KTAP: one "ok N - ..." / "not ok N - ..." line per test case;
 * the exit status is 1 if any failed.  Every rewrite goes through
 * sip_check_invariants() (rw_buffer(check=true) aborts on a violation).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_core.h"
#include "rewrite.h"

static const char *corpus_dir;
static char torture_dir[1024];	/* CORPUS_DIR/rfc */
static int n_test, n_fail;
static char why[512];

/* Records the reason of a failure; the first one wins. */
static bool failf(const char *fmt, ...)
{
	va_list ap;

	if (!why[0]) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	return false;
}

static void report(bool ok, const char *fmt, ...)
{
	va_list ap;

	n_test++;
	if (!ok)
		n_fail++;
	printf("%sok %d - ", ok ? "" : "not ", n_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		printf("# %s\n", why[0] ? why : "failed");
	why[0] = 0;
	fflush(stdout);
}

static unsigned char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	unsigned char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	/* exactly n bytes: ASan then catches any read past the message */
	buf = malloc(n ? (size_t)n : 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Splits a tab-separated line in place; returns the number of fields. */
static int split_tabs(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;

	line[strcspn(line, "\r\n")] = 0;
	while (n < max) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = 0;
	}
	return n;
}

static enum sip_reason reason_by_name(const char *s)
{
	int r;

	for (r = 0; r < SIP_R__COUNT; r++)
		if (!strcmp(sip_reason_name((enum sip_reason)r), s))
			return (enum sip_reason)r;
	return SIP_R__COUNT;
}

/* ---- the case table (tests/corpus/cases.tsv) ---- */

struct case_opts {
	struct sip_xlat x;
	struct sip_port_map map[16];
	bool tcp;
};

static bool parse_args(char *args, struct case_opts *o)
{
	char *save = NULL, *tok;

	memset(o, 0, sizeof(*o));
	o->x.media_map = o->map;
	for (tok = strtok_r(args, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (!strcmp(tok, "--internal") || !strcmp(tok, "--external")) {
			char *v = strtok_r(NULL, " ", &save);

			if (!v || rw_parse_endpoint(v, tok[2] == 'i' ? &o->x.internal : &o->x.external))
				return failf("bad endpoint in args");
		} else if (!strcmp(tok, "--reply")) {
			o->x.side = SIP_RECEIVER_NATED;
		} else if (!strcmp(tok, "--tcp")) {
			o->tcp = true;
		} else if (!strcmp(tok, "--mode")) {
			char *v = strtok_r(NULL, " ", &save);

			o->x.mode = v && !strcmp(v, "pinhole") ? SIP_MODE_PINHOLE : SIP_MODE_REWRITE;
		} else if (!strcmp(tok, "--media-port")) {
			char *v = strtok_r(NULL, " ", &save);
			unsigned int a, b;

			if (!v || sscanf(v, "%u=%u", &a, &b) != 2 || o->x.n_media_map == 16)
				return failf("bad media port");
			o->map[o->x.n_media_map].old_port = (u16)a;
			o->map[o->x.n_media_map++].new_port = (u16)b;
		} else {
			return failf("unknown arg %s", tok);
		}
	}
	return true;
}

struct pin_list {
	char s[1024];
};

static void pin_hook(void *ctx, size_t base, const unsigned char *m,
		     const struct sip_msg *msg, const struct sip_plan *plan)
{
	struct pin_list *pl = ctx;
	unsigned int i;

	(void)base;
	(void)m;
	(void)msg;
	for (i = 0; i < plan->n_pinholes; i++) {
		const struct sip_pinhole *p = &plan->pinhole[i];
		char a[64];
		size_t n = sip_addr_format(&p->dst.addr, true, a, sizeof(a));
		size_t used = strlen(pl->s);

		a[n] = 0;
		snprintf(pl->s + used, sizeof(pl->s) - used, "%s%s:%s:%u",
			 used ? "," : "", p->kind == SIP_PINHOLE_RTP ? "rtp" : "rtcp", a, p->dst.port);
	}
}

static bool run_case(char **f)
{
	struct case_opts o;
	struct rw_result res;
	struct pin_list pins = { "" };
	unsigned char *in, *out, *want;
	size_t len, out_len, want_len;
	enum sip_reason verdict = reason_by_name(f[3]);
	bool ok = true;
	char args[512];

	snprintf(args, sizeof(args), "%s", f[2]);
	if (!parse_args(args, &o))
		return false;
	in = slurp(corpus_dir, f[1], &len);
	if (!in)
		return failf("cannot read %s", f[1]);
	if (verdict == SIP_R__COUNT) {
		free(in);
		return failf("unknown verdict %s", f[3]);
	}
	out = rw_buffer(in, len, o.tcp, &o.x, true, &out_len, &res, pin_hook, &pins);
	if (res.reason != verdict)
		ok = failf("verdict %s, want %s", sip_reason_name(res.reason), f[3]);
	else if (verdict != SIP_OK && (unsigned long)res.err_off != strtoul(f[4], NULL, 10))
		ok = failf("offset %zu, want %s", res.err_off, f[4]);
	if (!strcmp(f[5], "=")) {
		want = in;
		want_len = len;
	} else {
		want = slurp(corpus_dir, f[5], &want_len);
		if (!want)
			ok = failf("cannot read %s", f[5]);
	}
	if (ok && (out_len != want_len || memcmp(out, want, out_len)))
		ok = failf("output differs from %s", f[5]);
	if (ok && strcmp(pins.s[0] ? pins.s : "-", f[6]))
		ok = failf("pinholes %s, want %s", pins.s[0] ? pins.s : "-", f[6]);
	if (want && want != in)
		free(want);
	free(out);
	free(in);
	return ok;
}

static void run_cases(void)
{
	char path[1024], line[4096];
	FILE *t;

	snprintf(path, sizeof(path), "%s/cases.tsv", corpus_dir);
	t = fopen(path, "r");
	if (!t) {
		failf("cannot open %s: %s", path, strerror(errno));
		report(false, "corpus: cases.tsv");
		return;
	}
	while (fgets(line, sizeof(line), t)) {
		char *f[8];

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (split_tabs(line, f, 8) != 8) {
			failf("malformed row");
			report(false, "corpus %s", f[0]);
			continue;
		}
		report(run_case(f), "corpus %s: %s", f[0], f[7]);
	}
	fclose(t);
}

/* ---- RFC 4475 / 5118 (tests/corpus/rfc, verdicts in torture.tsv) ---- */

static bool torture_one(const char *file, const char *verdict, const char *off)
{
	static struct sip_msg msg;
	static const struct sip_endpoint ext4 = { { 4, { 203, 0, 113, 1 } }, 5062 };
	static const struct sip_endpoint ext6 = {
		{ 6, { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } }, 5062 };
	struct sip_port_map map[2] = { { 49217, 40000 }, { 6000, 40002 } };
	struct sip_xlat x = { 0 };
	struct rw_result res;
	unsigned char *in, *out;
	size_t len, out_len;
	enum sip_reason r, want = reason_by_name(verdict);
	bool ok = true;
	int side, mode;

	in = slurp(torture_dir, file, &len);
	if (!in)
		return failf("cannot read %s", file);
	r = sip_parse(in, len, 0, &msg);
	if (r != want)
		ok = failf("verdict %s at %u, want %s", sip_reason_name(r), msg.err_off, verdict);
	else if (r != SIP_OK && msg.err_off != strtoul(off, NULL, 10))
		ok = failf("offset %u, want %s", msg.err_off, off);
	/* translate the address of the top Via, both sides, both modes */
	x.internal.addr.family = 4;
	x.internal.addr.ip[0] = 192;
	x.internal.addr.ip[3] = 1;
	x.internal.port = 5060;
	if (r == SIP_OK && msg.n_vias && msg.via[0].sent_by.host_kind != SIP_HOST_NAME) {
		x.internal.addr = msg.via[0].sent_by.addr;
		x.internal.port = msg.via[0].sent_by.port.len ? msg.via[0].sent_by.portval : 5060;
	}
	x.external = x.internal.addr.family == 6 ? ext6 : ext4;
	x.media_map = map;
	x.n_media_map = 2;
	for (side = 0; side < 2 && ok; side++) {
		for (mode = 0; mode < 2 && ok; mode++) {
			struct sip_xlat y = x;

			y.side = (enum sip_side)side;
			y.mode = (enum sip_mode)mode;
			if (side == SIP_RECEIVER_NATED) {
				/* the same address seen as the public one coming back */
				y.internal = x.external;
				y.external = x.internal;
			}
			out = rw_buffer(in, len, false, &y, true, &out_len, &res, NULL, NULL);
			if (!out) {
				ok = failf("out of memory");
				break;
			}
			if ((r != SIP_OK || mode == SIP_MODE_PINHOLE) &&
			    (out_len != len || memcmp(out, in, len)))
				ok = failf("output differs (side %d mode %d)", side, mode);
			if (r == SIP_OK && side == SIP_SENDER_NATED && mode == SIP_MODE_REWRITE &&
			    msg.is_request && msg.n_vias && msg.via[0].sent_by.host_kind != SIP_HOST_NAME &&
			    (msg.via[0].transport == SIP_TP_UDP || msg.via[0].transport == SIP_TP_TCP) &&
			    res.rewritten != 1)
				ok = failf("top Via not rewritten");
			free(out);
		}
	}
	free(in);
	return ok;
}

/* The messages torture.tsv gives a verdict for, to compare with the manifest. */
#define MAX_TORTURE 128
static char torture_names[MAX_TORTURE][64];
static int n_torture;

/*
 * Every message rfc/MANIFEST.tsv lists has a verdict in torture.tsv, and
 * no other: a message added to the corpus cannot go untested.
 */
static bool torture_covers_manifest(void)
{
	char path[1024], line[4096];
	int i, listed = 0;
	bool ok = true;
	FILE *m;

	if (snprintf(path, sizeof(path), "%s/MANIFEST.tsv", torture_dir) >=
	    (int)sizeof(path))
		return failf("path too long: %s", torture_dir);
	m = fopen(path, "r");
	if (!m)
		return failf("cannot open %s", path);
	while (fgets(line, sizeof(line), m)) {
		char *f[1];

		split_tabs(line, f, 1);
		if (!strcmp(f[0], "file") || !f[0][0])
			continue;	/* the header line */
		listed++;
		for (i = 0; i < n_torture && strcmp(torture_names[i], f[0]); i++)
			;
		if (i == n_torture && ok)
			ok = failf("%s has no row in torture.tsv", f[0]);
	}
	fclose(m);
	if (ok && listed != n_torture)
		ok = failf("torture.tsv has %d rows, the manifest %d messages", n_torture, listed);
	return ok;
}

static void run_torture(void)
{
	char path[1024], line[2048];
	FILE *t;

	snprintf(path, sizeof(path), "%s/torture.tsv", corpus_dir);
	t = fopen(path, "r");
	if (!t) {
		failf("cannot open %s", path);
		report(false, "torture.tsv");
		return;
	}
	while (fgets(line, sizeof(line), t)) {
		char *f[4];

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (split_tabs(line, f, 4) != 4) {
			failf("malformed row");
			report(false, "torture row");
			continue;
		}
		if (n_torture < MAX_TORTURE)
			snprintf(torture_names[n_torture++], sizeof(torture_names[0]), "%s", f[0]);
		report(torture_one(f[0], f[1], f[2]), "torture %s: %s", f[0], f[1]);
	}
	fclose(t);
	report(torture_covers_manifest(), "torture.tsv has a verdict for every message of rfc/MANIFEST.tsv");
}

/* ---- focused unit tests ---- */

static bool t_ipv4(void)
{
	static const struct { const char *s; bool ok; } v[] = {
		{ "0.0.0.0", true }, { "255.255.255.255", true }, { "192.168.1.2", true },
		{ "256.1.1.1", false }, { "1.2.3", false }, { "1.2.3.4.5", false },
		{ "01.2.3.4", false }, { "1.2.3.4 ", false }, { "", false }, { "1..2.3", false },
		{ "1.2.3.04", false }, { "1234.1.1.1", false },
	};
	struct sip_addr a;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if ((sip_addr_parse(v[i].s, strlen(v[i].s), &a) == 0 && a.family == 4) != v[i].ok)
			return failf("%s", v[i].s);
	return true;
}

/*
 * The dotted quad as the planner writes it: every octet value in every
 * position, and the longest one into a buffer of exactly its 15 bytes.
 */
static bool t_ipv4_format(void)
{
	struct sip_addr a = { .family = 4 };
	char out[16], small[15], want[16];
	u32 v, pos;
	size_t n;

	for (v = 0; v < 256; v++) {
		for (pos = 0; pos < 4; pos++) {
			memset(a.ip, pos == 3 ? 7 : 255, 4);
			a.ip[pos] = (u8)v;
			snprintf(want, sizeof(want), "%u.%u.%u.%u", a.ip[0], a.ip[1], a.ip[2],
				 a.ip[3]);
			n = sip_addr_format(&a, false, out, sizeof(out));
			if (n != strlen(want) || memcmp(out, want, n))
				return failf("%s formatted %.*s", want, (int)n, out);
		}
	}
	memset(a.ip, 255, 4);
	if (sip_addr_format(&a, false, small, sizeof(small)) != 15 || memcmp(small, "255.255.255.255", 15))
		return failf("255.255.255.255 into 15 bytes");
	return true;
}

static bool t_ipv6(void)
{
	static const struct { const char *in, *out; } v[] = {
		{ "::", "::" }, { "::1", "::1" }, { "1::", "1::" },
		{ "2001:db8::1", "2001:db8::1" }, { "2001:DB8:0:0:0:0:0:1", "2001:db8::1" },
		{ "2001:db8:0:1:0:0:0:2", "2001:db8:0:1::2" },
		{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1" }, { "1:0:0:2:0:0:0:3", "1:0:0:2::3" },
		{ "1:0:0:2:3:0:0:4", "1::2:3:0:0:4" }, { "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8" },
		{ "1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8" },
		{ "::ffff:192.0.2.10", "::ffff:192.0.2.10" }, { "2001:db8::192.0.2.1", "2001:db8::c000:201" },
		{ "2001:db8:::192.0.2.1", "2001:db8::c000:201" },	/* RFC 5118 4.10 */
		{ "2001:db8::10:5070", "2001:db8::10:5070" },
		{ "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304" },
	};
	static const char *const bad[] = {
		"", ":", ":::", "1:2:3:4:5:6:7:8:9", "12345::1", "1::2::3", "1:2:3:4:5:6:7",
		"2001:db8:::1", "g::1", "1:", ":1", "1.2.3.4", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4",
		"::ffff:1.2.3.4:5", "[::1]",
	};
	struct sip_addr a;
	char out[64];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (sip_addr_parse(v[i].in, strlen(v[i].in), &a) || a.family != 6)
			return failf("refused %s", v[i].in);
		n = sip_addr_format(&a, false, out, sizeof(out));
		out[n] = 0;
		if (strcmp(out, v[i].out))
			return failf("%s formatted %s, want %s", v[i].in, out, v[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!sip_addr_parse(bad[i], strlen(bad[i]), &a) && a.family == 6)
			return failf("accepted %s", bad[i]);
	return true;
}

static bool t_endpoint(void)
{
	static const struct { const char *s; int ok; unsigned int port; int fam; } v[] = {
		{ "192.0.2.1", 1, 5060, 4 }, { "192.0.2.1:5062", 1, 5062, 4 },
		{ "[2001:db8::1]:5070", 1, 5070, 6 }, { "[2001:db8::1]", 1, 5060, 6 },
		{ "2001:db8::1", 1, 5060, 6 }, { "192.0.2.1:0", 0, 0, 0 },
		{ "192.0.2.1:65536", 0, 0, 0 }, { "192.0.2.1:", 0, 0, 0 }, { "host:5060", 0, 0, 0 },
		{ "[192.0.2.1]:5060", 0, 0, 0 }, { "[2001:db8::1]x", 0, 0, 0 },
		{ "192.0.2.1:50a", 0, 0, 0 },
	};
	struct sip_endpoint ep;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int r = rw_parse_endpoint(v[i].s, &ep);

		if ((r == 0) != v[i].ok)
			return failf("%s", v[i].s);
		if (r == 0 && (ep.port != v[i].port || ep.addr.family != v[i].fam))
			return failf("%s parsed wrong", v[i].s);
	}
	return true;
}

static bool t_reason_names(void)
{
	int i, j;

	for (i = 0; i < SIP_R__COUNT; i++) {
		const char *a = sip_reason_name((enum sip_reason)i);

		if (!a || !*a || !strcmp(a, "unknown"))
			return failf("reason %d has no name", i);
		for (j = 0; j < i; j++)
			if (!strcmp(a, sip_reason_name((enum sip_reason)j)))
				return failf("duplicate name %s", a);
	}
	return !strcmp(sip_reason_name(SIP_R__COUNT), "unknown") ||
	       failf("out of range reason");
}

static const char reg[] =
	"REGISTER sip:example.com SIP/2.0\r\n"
	"Via: SIP/2.0/TCP 192.168.1.2:5060;branch=z9hG4bK1\r\n"
	"From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\n"
	"Call-ID: 1@h\r\nCSeq: 1 REGISTER\r\nContact: <sip:a@192.168.1.2>\r\n"
	"Content-Length: 0\r\n\r\n";

static bool t_stream(void)
{
	static struct sip_msg msg;
	unsigned char buf[1024];
	size_t n = 0, k;
	enum sip_reason r;

	memcpy(buf, "\r\n\r\n", 4);
	n = 4;
	memcpy(buf + n, reg, sizeof(reg) - 1);
	n += sizeof(reg) - 1;
	memcpy(buf + n, reg, sizeof(reg) - 1);
	n += sizeof(reg) - 1;
	r = sip_parse(buf, n, SIP_PARSE_STREAM, &msg);
	if (r != SIP_R_KEEPALIVE || msg.msg_len != 4)
		return failf("keepalive: %s %u", sip_reason_name(r), msg.msg_len);
	r = sip_parse(buf + 4, n - 4, SIP_PARSE_STREAM, &msg);
	if (r != SIP_OK || msg.msg_len != sizeof(reg) - 1)
		return failf("first: %s", sip_reason_name(r));
	/* every proper prefix of a stream message is incomplete, never OK */
	for (k = 1; k < sizeof(reg) - 1; k++) {
		r = sip_parse((const u8 *)reg, k, SIP_PARSE_STREAM, &msg);
		if (r != SIP_R_INCOMPLETE)
			return failf("prefix %zu: %s", k, sip_reason_name(r));
	}
	/* over UDP a datagram of CRLFs is a keepalive, a CRLF before a message is not */
	if (sip_parse(buf, 4, 0, &msg) != SIP_R_KEEPALIVE)
		return failf("udp keepalive");
	if (sip_parse(buf, n, 0, &msg) != SIP_R_BAD_START_LINE)
		return failf("udp leading CRLF");
	/* without Content-Length a stream message is refused */
	return true;
}

/* A plan built by hand must be caught by the checker for each invariant. */
static bool t_checker_catches(void)
{
	static struct sip_msg msg, scratch;
	static struct sip_plan plan;
	static unsigned char out[2048];
	struct sip_xlat x = { 0 };
	size_t n;
	int r;

	if (sip_parse((const u8 *)reg, sizeof(reg) - 1, 0, &msg) != SIP_OK)
		return failf("parse");
	rw_parse_endpoint("192.168.1.2:5060", &x.internal);
	rw_parse_endpoint("203.0.113.1:5060", &x.external);
	sip_plan((const u8 *)reg, &msg, &x, &plan);
	if (plan.n_edits != 2)
		return failf("want 2 edits, got %u", plan.n_edits);
	n = sip_apply((const u8 *)reg, &msg, &plan, out, sizeof(out));
	r = sip_check_invariants((const u8 *)reg, &msg, 0, &x, &plan, out, n, &scratch);
	if (!n || r)
		return failf("good plan flagged %d", r);
	/* 5: not rewriting the Contact */
	plan.n_edits = 1;
	plan.delta = plan.edit[0].repl_len - plan.edit[0].len;
	n = sip_apply((const u8 *)reg, &msg, &plan, out, sizeof(out));
	r = sip_check_invariants((const u8 *)reg, &msg, 0, &x, &plan, out, n, &scratch);
	if (r != 5)
		return failf("incomplete plan gave %d", r);
	/* 1: an edit of the Call-ID */
	plan.edit[0].off = msg.call_id.off;
	plan.edit[0].len = msg.call_id.len;
	plan.delta = plan.edit[0].repl_len - plan.edit[0].len;
	n = sip_apply((const u8 *)reg, &msg, &plan, out, sizeof(out));
	r = sip_check_invariants((const u8 *)reg, &msg, 0, &x, &plan, out, n, &scratch);
	if (r != 1)
		return failf("Call-ID edit gave %d", r);
	/* 3: output with a byte changed elsewhere */
	sip_plan((const u8 *)reg, &msg, &x, &plan);
	n = sip_apply((const u8 *)reg, &msg, &plan, out, sizeof(out));
	out[5] ^= 1;
	r = sip_check_invariants((const u8 *)reg, &msg, 0, &x, &plan, out, n, &scratch);
	if (r != 3)
		return failf("stray byte gave %d", r);
	/* 4: a host replaced by something that is no address */
	memcpy(plan.edit[0].repl, "999.1.1.1", 9);
	plan.edit[0].repl_len = 9;
	plan.delta = 0;
	{
		int i;

		for (i = 0; i < plan.n_edits; i++)
			plan.delta += plan.edit[i].repl_len - plan.edit[i].len;
	}
	n = sip_apply((const u8 *)reg, &msg, &plan, out, sizeof(out));
	r = sip_check_invariants((const u8 *)reg, &msg, 0, &x, &plan, out, n, &scratch);
	if (r != 2 && r != 4)
		return failf("bad address gave %d", r);
	return true;
}

static bool t_apply_refuses(void)
{
	static struct sip_msg msg;
	static struct sip_plan plan;
	unsigned char out[2048];
	struct sip_xlat x = { 0 };

	if (sip_parse((const u8 *)reg, sizeof(reg) - 1, 0, &msg) != SIP_OK)
		return failf("parse");
	rw_parse_endpoint("192.168.1.2:5060", &x.internal);
	rw_parse_endpoint("203.0.113.100:5061", &x.external);
	sip_plan((const u8 *)reg, &msg, &x, &plan);
	if (sip_apply((const u8 *)reg, &msg, &plan, out, 10))
		return failf("too small a buffer accepted");
	plan.edit[1].off = plan.edit[0].off;	/* overlap */
	if (sip_apply((const u8 *)reg, &msg, &plan, out, sizeof(out)))
		return failf("overlapping edits accepted");
	sip_plan((const u8 *)reg, &msg, &x, &plan);
	plan.delta++;
	if (sip_apply((const u8 *)reg, &msg, &plan, out, sizeof(out)))
		return failf("inconsistent delta accepted");
	return true;
}

/*
 * The module replaces the part of a message its edits cover with
 * sip_apply_splice()'s bytes, in one mangle: spliced into the original, they
 * must give what sip_apply() gives, and a buffer one byte short is refused.
 */
static bool t_apply_splice(void)
{
	static struct sip_msg msg;
	static struct sip_plan plan;
	unsigned char whole[2048], part[2048], spliced[2048];
	struct sip_xlat x = { 0 };
	struct sip_splice sp;
	size_t n, tail;

	if (sip_parse((const u8 *)reg, sizeof(reg) - 1, 0, &msg) != SIP_OK)
		return failf("parse");
	rw_parse_endpoint("192.168.1.2:5060", &x.internal);
	rw_parse_endpoint("203.0.113.100:5061", &x.external);
	sip_plan((const u8 *)reg, &msg, &x, &plan);
	n = sip_apply((const u8 *)reg, &msg, &plan, whole, sizeof(whole));
	if (!n || plan.n_edits < 2)
		return failf("want a plan of several edits, got %u", plan.n_edits);
	if (!sip_apply_splice((const u8 *)reg, msg.msg_len, &plan, part,
			      sizeof(part), &sp))
		return failf("splice refused");
	if (sp.off != plan.edit[0].off ||
	    sp.off + sp.len != (size_t)plan.edit[plan.n_edits - 1].off +
			       plan.edit[plan.n_edits - 1].len)
		return failf("span %zu+%zu is not first edit to last", sp.off,
			     sp.len);
	tail = msg.msg_len - sp.off - sp.len;
	memcpy(spliced, reg, sp.off);
	memcpy(spliced + sp.off, part, sp.out_len);
	memcpy(spliced + sp.off + sp.out_len, reg + sp.off + sp.len, tail);
	if (sp.off + sp.out_len + tail != n || memcmp(spliced, whole, n))
		return failf("spliced message differs from sip_apply's");
	if (sip_apply_splice((const u8 *)reg, msg.msg_len, &plan, part,
			     sp.out_len - 1, &sp))
		return failf("a buffer one byte short accepted");
	plan.n_edits = 0;
	if (sip_apply_splice((const u8 *)reg, msg.msg_len, &plan, part,
			     sizeof(part), &sp))
		return failf("a plan without edits accepted");
	return true;
}

static bool t_xlat_invalid(void)
{
	static struct sip_msg msg;
	static struct sip_plan plan;
	struct sip_xlat x = { 0 };

	if (sip_parse((const u8 *)reg, sizeof(reg) - 1, 0, &msg) != SIP_OK)
		return failf("parse");
	rw_parse_endpoint("192.168.1.2:5060", &x.internal);
	rw_parse_endpoint("203.0.113.100:5060", &x.external);
	x.external.port = 0;
	sip_plan((const u8 *)reg, &msg, &x, &plan);
	if (plan.n_edits)
		return failf("port 0 would be written");
	rw_parse_endpoint("[2001:db8::1]:5060", &x.external);
	sip_plan((const u8 *)reg, &msg, &x, &plan);
	if (plan.n_edits)
		return failf("family change");
	return true;
}

/* Exactly at each limit is fine, one over is refused with its reason. */
static bool t_limits(void)
{
	static struct sip_msg msg;
	static char buf[70000];
	const char *head = "OPTIONS sip:a@b SIP/2.0\r\nFrom: <sip:a@b>\r\nTo: <sip:a@b>\r\n"
			   "Call-ID: x\r\nCSeq: 1 OPTIONS\r\n";
	int extra, i;
	size_t n;

	for (extra = 0; extra < 2; extra++) {
		/* 5 fixed headers + Vias + Content-Length */
		n = (size_t)snprintf(buf, sizeof(buf), "%s", head);
		for (i = 0; i < SIP_MAX_HEADERS - 6 + extra; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-%d: y\r\n", i);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "Via: SIP/2.0/UDP h\r\nContent-Length: 0\r\n\r\n");
		if (sip_parse((u8 *)buf, n, 0, &msg) != (extra ? SIP_R_TOO_MANY_HEADERS : SIP_OK))
			return failf("headers limit, extra %d", extra);
		n = (size_t)snprintf(buf, sizeof(buf), "%sVia: ", head);
		for (i = 0; i < SIP_MAX_VIAS + extra; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%sSIP/2.0/UDP h%d", i ? "," : "", i);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\nContent-Length: 0\r\n\r\n");
		if (sip_parse((u8 *)buf, n, 0, &msg) != (extra ? SIP_R_TOO_MANY_VALUES : SIP_OK))
			return failf("via limit, extra %d", extra);
	}
	/* a datagram over 64 KiB */
	memset(buf, 'a', sizeof(buf));
	if (sip_parse((u8 *)buf, sizeof(buf), 0, &msg) != SIP_R_TOO_LONG)
		return failf("64K");
	return true;
}

/*
 * The word-at-a-time scanners (swar_skip() in sip_lex.h) find a stop byte
 * at every offset: in the first, a middle or the last word of a run, in
 * the bytes after the last whole word, and where the run ends the buffer.
 * Each case is one context: a prefix, a value of n bytes ('a', but for
 * the stop byte at i) and a suffix; the verdict and err_off must name the
 * stop byte.  An empty suffix ends the datagram right after the value.
 */
struct scan_ctx {
	const char *what, *pre, *suf;
	const char *stops;		/* the stop bytes tried (NUL included via nstops) */
	size_t nstops;
	enum sip_reason reason;		/* for stops other than CR and LF */
	size_t first, trim;		/* stop positions first .. n - 1 - trim */
};

#define SCAN_HDRS "Via: SIP/2.0/UDP h\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n" \
		  "CSeq: 1 INVITE\r\n"
#define SCAN_MSG "SIP/2.0 200 OK\r\n" SCAN_HDRS "Call-ID: c\r\n"
#define SCAN_SDP "INVITE sip:b@h SIP/2.0\r\n" SCAN_HDRS "Call-ID: c\r\n" \
		 "Content-Type: application/sdp\r\n\r\nv=0\r\na="

static const struct scan_ctx scan_ctxs[] = {
	{ "status line (CR, LF)", "SIP/2.0 200 ", "\r\n" SCAN_HDRS "Call-ID: c\r\n\r\n",
	  "\r\n", 2, SIP_R_BAD_LINE_END, 0, 0 },
	{ "header value", SCAN_MSG "X-T: ", "\r\n\r\n",
	  "\x00\x01\x1f\x7f\r\n", 6, SIP_R_BAD_HEADER, 0, 0 },
	{ "header value ending the buffer", SCAN_MSG "X-T: ", "",
	  "\x00\x01\x1f\x7f\n", 5, SIP_R_BAD_HEADER, 0, 0 },
	{ "quoted string", SCAN_MSG "X-T: \"", "\"\r\n\r\n",
	  "\x00\x08\x7f\r\n", 5, SIP_R_BAD_HEADER, 0, 0 },
	{ "Call-ID", "SIP/2.0 200 OK\r\n" SCAN_HDRS "Call-ID: ", "\r\n\r\n",
	  " \x80", 2, SIP_R_BAD_CALL_ID, 1, 1 },
	{ "SDP line", SCAN_SDP, "\r\n", "\x00\r", 2, SIP_R_BAD_SDP, 0, 0 },
	{ "SDP line ending the body", SCAN_SDP, "", "\x00", 1, SIP_R_BAD_SDP, 0, 0 },
};

static bool scan_case(const struct scan_ctx *c, size_t n, size_t i, u8 stop)
{
	size_t pl = strlen(c->pre), sl = strlen(c->suf), len = pl + n + sl;
	enum sip_reason want = c->reason, r;
	struct sip_msg msg;
	u8 *buf = malloc(len);	/* exactly len: ASan sees any read past it */

	if (!buf)
		return failf("out of memory");
	memcpy(buf, c->pre, pl);
	memset(buf + pl, 'a', n);
	buf[pl + i] = stop;
	memcpy(buf + pl + n, c->suf, sl);
	if (stop == '\n' || (stop == '\r' && c->reason != SIP_R_BAD_SDP))
		want = SIP_R_BAD_LINE_END;
	r = sip_parse(buf, len, 0, &msg);
	free(buf);
	if (r != want || msg.err_off != pl + i)
		return failf("%s: stop 0x%02x at %zu of %zu: %s at %u, want %s at %zu",
			     c->what, stop, i, n, sip_reason_name(r), msg.err_off,
			     sip_reason_name(want), pl + i);
	return true;
}

static bool t_scan_offsets(void)
{
	size_t k, n, i, s;

	for (k = 0; k < sizeof(scan_ctxs) / sizeof(scan_ctxs[0]); k++) {
		const struct scan_ctx *c = &scan_ctxs[k];

		for (n = 1; n <= 26; n++)
			for (i = c->first; i + c->trim < n; i++)
				for (s = 0; s < c->nstops; s++)
					if (!scan_case(c, n, i, (u8)c->stops[s]))
						return false;
	}
	return true;
}

/*
 * Header names: the interpreted ones in any case, long and compact, and
 * names that only start like one (or end before one's colon) are not
 * taken for it.  The line is the first header, as "NAME: x y" (a value
 * most parsers refuse: the verdict does not matter, the name's span and
 * id are recorded before the value is parsed), with more header lines
 * after it, so that every way of reading the name has bytes to read.
 */
static bool t_header_names(void)
{
	static const struct {
		const char *name;
		enum sip_hdr_id id;
		size_t len;	/* of the name (before any LWS) */
	} names[] = {
		{ "Via", SIP_HDR_VIA, 3 }, { "vIA", SIP_HDR_VIA, 3 }, { "v", SIP_HDR_VIA, 1 },
		{ "Via ", SIP_HDR_VIA, 3 }, { "Call-ID", SIP_HDR_CALL_ID, 7 },
		{ "call-id", SIP_HDR_CALL_ID, 7 }, { "i", SIP_HDR_CALL_ID, 1 },
		{ "CONTACT", SIP_HDR_CONTACT, 7 }, { "m", SIP_HDR_CONTACT, 1 },
		{ "CSeq", SIP_HDR_CSEQ, 4 }, { "Content-Type", SIP_HDR_CONTENT_TYPE, 12 },
		{ "c", SIP_HDR_CONTENT_TYPE, 1 }, { "content-LENGTH", SIP_HDR_CONTENT_LENGTH, 14 },
		{ "L", SIP_HDR_CONTENT_LENGTH, 1 }, { "From", SIP_HDR_FROM, 4 },
		{ "f", SIP_HDR_FROM, 1 }, { "To", SIP_HDR_TO, 2 }, { "T", SIP_HDR_TO, 1 },
		{ "Expires", SIP_HDR_EXPIRES, 7 },
		{ "Tox", SIP_HDR_OTHER, 3 }, { "Fromage", SIP_HDR_OTHER, 7 },
		{ "Via2", SIP_HDR_OTHER, 4 }, { "Vi", SIP_HDR_OTHER, 2 },
		{ "vv", SIP_HDR_OTHER, 2 }, { "Contacts", SIP_HDR_OTHER, 8 },
		{ "Call-IDs", SIP_HDR_OTHER, 8 }, { "CSeq-X", SIP_HDR_OTHER, 6 },
		{ "Content-Types", SIP_HDR_OTHER, 13 }, { "Content-Lengths", SIP_HDR_OTHER, 15 },
		{ "Content", SIP_HDR_OTHER, 7 }, { "Expiresx", SIP_HDR_OTHER, 8 },
		{ "Session-Expires", SIP_HDR_OTHER, 15 }, { "e", SIP_HDR_OTHER, 1 },
	};
	static struct sip_msg msg;
	char buf[256];
	size_t i, n;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = (size_t)snprintf(buf, sizeof(buf),
				     "OPTIONS sip:a@b SIP/2.0\r\n%s: x y\r\nMax-Forwards: 70\r\n"
				     "X-Pad: 0123456789abcdef\r\n\r\n", names[i].name);
		sip_parse((u8 *)buf, n, 0, &msg);
		if (!msg.n_headers || msg.hdr[0].name.off != 25 ||
		    msg.hdr[0].name.len != names[i].len || msg.hdr[0].id != names[i].id)
			return failf("\"%s:\": %u headers, name at %u, %u bytes, id %u; want at 25, %zu, %d",
				     names[i].name, msg.n_headers, msg.hdr[0].name.off,
				     msg.hdr[0].name.len, msg.hdr[0].id, names[i].len, names[i].id);
	}
	return true;
}

/*
 * Every single-byte mutation of a few corpus messages, through parse ->
 * plan -> apply -> check: a deterministic mini-fuzz that runs in every
 * `make check` (the libFuzzer targets go much further).
 */
static bool t_mutations(void)
{
	static const char *const files[] = { "invite_sdp.sip", "multipart_sdp.sip", "folded.sip",
					     "invite_ipv6.sip", "register.sip" };
	static const unsigned char subst[] = { 0, '\r', '\n', ' ', ':', ';', ',', '<', '>', '[',
					       ']', '"', '\\', '/', '=', '9', 'a', 0xff, '-', '.' };
	struct sip_port_map map[1] = { { 4000, 40000 } };
	struct sip_xlat x = { 0 };
	size_t f, i, k, len, out_len;
	unsigned long runs = 0;

	rw_parse_endpoint("192.168.1.2:5060", &x.internal);
	rw_parse_endpoint("203.0.113.100:5062", &x.external);
	x.media_map = map;
	x.n_media_map = 1;
	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		unsigned char *in = slurp(corpus_dir, files[f], &len);

		if (!in)
			return failf("cannot read %s", files[f]);
		if (!strcmp(files[f], "invite_ipv6.sip")) {
			rw_parse_endpoint("[2001:db8:0:1::2]:5060", &x.internal);
			rw_parse_endpoint("[2001:db8:ffff::1]:5062", &x.external);
		}
		for (i = 0; i < len; i++) {
			unsigned char orig = in[i];

			for (k = 0; k < sizeof(subst); k++) {
				struct rw_result res;
				unsigned char *out;
				int side;

				in[i] = subst[k];
				/* the receiver side is run as a TCP segment, for framing variety */
				for (side = 0; side < 2; side++) {
					x.side = (enum sip_side)side;
					out = rw_buffer(in, len, side == 1, &x, true, &out_len, &res,
							NULL, NULL);
					free(out);
					runs++;
				}
			}
			in[i] = orig;
		}
		free(in);
	}
	printf("# %lu mutated messages checked\n", runs);
	return true;
}

struct unit {
	const char *name;
	bool (*fn)(void);
};

static const struct unit units[] = {
	{ "IPv4 address grammar (dec-octet, no leading zeros)", t_ipv4 },
	{ "IPv4 format: every octet value in every position", t_ipv4_format },
	{ "IPv6 parse and RFC 5952 format (incl. RFC 5118 4.10 form)", t_ipv6 },
	{ "sipalgctl endpoint syntax", t_endpoint },
	{ "reason names are unique and stable", t_reason_names },
	{ "stream framing: keepalive, back-to-back messages, prefixes incomplete", t_stream },
	{ "sip_check_invariants catches violations of 1, 3, 4/2 and 5", t_checker_catches },
	{ "sip_apply refuses small buffers, overlaps and inconsistent deltas", t_apply_refuses },
	{ "sip_apply_splice: one replacement from first edit to last, as sip_apply", t_apply_splice },
	{ "planner never writes port 0 or changes address family", t_xlat_invalid },
	{ "limits: headers, Vias, message size", t_limits },
	{ "word-at-a-time scanners stop at every offset, tails included", t_scan_offsets },
	{ "header names: interpreted ones in any case, look-alikes not", t_header_names },
	{ "single-byte mutations keep every invariant", t_mutations },
};

static int count_rows(const char *name)
{
	char path[1024], line[4096];
	FILE *t;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", corpus_dir, name);
	t = fopen(path, "r");
	if (!t)
		return 1;
	while (fgets(line, sizeof(line), t))
		if (line[0] != '#' && line[0] != '\n')
			n++;
	fclose(t);
	return n;
}

int main(int argc, char **argv)
{
	size_t i;
	int plan;

	if (argc != 2) {
		fprintf(stderr, "usage: test_core CORPUS_DIR\n");
		return 2;
	}
	corpus_dir = argv[1];
	snprintf(torture_dir, sizeof(torture_dir), "%s/rfc", corpus_dir);
	plan = count_rows("cases.tsv") + count_rows("torture.tsv") + 1 +
	       (int)(sizeof(units) / sizeof(units[0]));
	printf("KTAP version 1\n1..%d\n", plan);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		report(units[i].fn(), "%s", units[i].name);
	run_cases();
	run_torture();
	printf("# core unit tests: %d passed, %d failed\n", n_test - n_fail, n_fail);
	return n_fail ? 1 : 0;
}
