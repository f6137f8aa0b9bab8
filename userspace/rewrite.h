/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the module does to the payload of one UDP datagram or TCP segment,
 * in userspace: parse each message, plan, apply.  Shared by
 * `sipalgctl rewrite`, the unit tests and the fuzzers, so they all exercise
 * the exact framing rules the kernel glue follows:
 *   UDP: one message; bytes after its Content-Length pass unchanged.
 *   TCP: every complete message in turn (CRLF keepalives between them pass);
 *        from the first message that is malformed or incomplete on, the
 *        rest of the segment passes unchanged.
 * A malformed message passes byte for byte.
 */
#ifndef SIPALG_REWRITE_H
#define SIPALG_REWRITE_H

#include "../kmod/core/sip_core.h"

struct rw_result {
	enum sip_reason reason;	/* first verdict other than OK/keepalive, else SIP_OK */
	size_t err_off;		/* absolute offset in the input */
	unsigned int messages;	/* messages parsed OK */
	unsigned int rewritten;	/* of them, with at least one edit */
	unsigned int keepalives;
};

/* Called for every message parsed OK, after planning (may be NULL). */
typedef void (*rw_hook)(void *ctx, size_t base, const unsigned char *msgbuf,
			const struct sip_msg *msg, const struct sip_plan *plan);

/*
 * Returns a malloc'd output buffer of *out_len bytes (NULL only when out
 * of memory).  check: also run sip_check_invariants() on every rewrite and
 * abort() on a violation (tests, fuzzers).
 */
unsigned char *rw_buffer(const unsigned char *in, size_t len, bool tcp,
			 const struct sip_xlat *xlat, bool check,
			 size_t *out_len, struct rw_result *res,
			 rw_hook hook, void *hook_ctx);

/* "ADDR[:PORT]", "[V6]:PORT", "[V6]" or a bare V6; port defaults to 5060. */
int rw_parse_endpoint(const char *s, struct sip_endpoint *ep);

#endif
