// SPDX-License-Identifier: GPL-2.0
/*
 * `sipalgctl rewrite` for many messages in one process, for
 * alg_hostile.sh (through hostile_traffic.py): starting sipalgctl once
 * per message costs most of a second in the emulated VM.  It runs the
 * same code, rw_buffer() of userspace/rewrite.c, on the same flow
 * description (the test checks a sample against sipalgctl itself).
 *
 * stdin, one request after another:
 *   INTERNAL EXTERNAL FLAGS LENGTH\n   then LENGTH bytes of payload
 *   FLAGS: any of r (--reply) and t (--tcp), or -
 * stdout, one answer per request:
 *   STATUS REASON LENGTH\n             then LENGTH bytes the router sends
 *   STATUS as sipalgctl rewrite's (0 rewritten or nothing to do, 1
 *   malformed, 2 bad request); REASON the malformed reason, or -
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rewrite.h"

static int answer(const char *in, const char *ext, const char *flags,
		  const unsigned char *buf, size_t len)
{
	struct sip_xlat x = { 0 };
	struct rw_result res;
	unsigned char *out;
	size_t out_len;

	if (rw_parse_endpoint(in, &x.internal) || rw_parse_endpoint(ext, &x.external) ||
	    x.internal.addr.family != x.external.addr.family) {
		printf("2 - 0\n");
		return 0;
	}
	if (strchr(flags, 'r'))
		x.side = SIP_RECEIVER_NATED;
	out = rw_buffer(buf, len, strchr(flags, 't') != NULL, &x, false, &out_len,
			&res, NULL, NULL);
	if (!out)
		return -1;
	printf("%d %s %zu\n", res.reason == SIP_OK ? 0 : 1,
	       res.reason == SIP_OK ? "-" : sip_reason_name(res.reason), out_len);
	fwrite(out, 1, out_len, stdout);
	free(out);
	return 0;
}

int main(void)
{
	char in[128], ext[128], flags[8];
	unsigned char *buf;
	size_t len;

	while (scanf("%127s %127s %7s %zu", in, ext, flags, &len) == 4 && getchar() == '\n') {
		buf = malloc(len + 1);
		if (!buf || fread(buf, 1, len, stdin) != len)
			return 1;
		if (answer(in, ext, flags, buf, len))
			return 1;
		free(buf);
		fflush(stdout);
	}
	return ferror(stdin) ? 1 : 0;
}
