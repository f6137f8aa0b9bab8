// SPDX-License-Identifier: GPL-2.0
#include "rewrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct outbuf {
	unsigned char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct outbuf *o, const void *d, size_t n)
{
	if (o->oom || !n)
		return;
	if (o->len + n > o->cap) {
		size_t cap = (o->cap + n) * 2;
		unsigned char *p = realloc(o->p, cap);

		if (!p) {
			o->oom = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, d, n);
	o->len += n;
}

/* Plans and applies one parsed message; writes the result to o. */
static void one_message(const unsigned char *m, struct sip_msg *msg, unsigned int flags,
			const struct sip_xlat *xlat, bool check, struct outbuf *o,
			struct rw_result *res, rw_hook hook, void *ctx, size_t base)
{
	static struct sip_plan plan;
	static struct sip_msg scratch;
	static unsigned char tmp[SIP_MAX_MSG_LEN + 1];
	size_t n;

	sip_plan(m, msg, xlat, &plan);
	if (hook)
		hook(ctx, base, m, msg, &plan);
	res->messages++;
	if (!plan.n_edits) {
		if (check && sip_check_invariants(m, msg, flags, xlat, &plan, m,
						  msg->msg_len, &scratch)) {
			fprintf(stderr, "invariant %d violated (no edits)\n",
				sip_check_invariants(m, msg, flags, xlat, &plan, m,
						     msg->msg_len, &scratch));
			abort();
		}
		put(o, m, msg->msg_len);
		return;
	}
	n = sip_apply(m, msg, &plan, tmp, sizeof(tmp));
	if (!n) {
		if (check) {
			fprintf(stderr, "sip_apply refused a plan\n");
			abort();
		}
		put(o, m, msg->msg_len);
		return;
	}
	if (check) {
		int inv = sip_check_invariants(m, msg, flags, xlat, &plan, tmp, n, &scratch);

		if (inv) {
			fprintf(stderr, "invariant %d violated\n", inv);
			abort();
		}
	}
	res->rewritten++;
	put(o, tmp, n);
}

unsigned char *rw_buffer(const unsigned char *in, size_t len, bool tcp,
			 const struct sip_xlat *xlat, bool check,
			 size_t *out_len, struct rw_result *res,
			 rw_hook hook, void *hook_ctx)
{
	static struct sip_msg msg;
	struct outbuf o = { 0 };
	unsigned int flags = tcp ? SIP_PARSE_STREAM : 0;
	size_t pos = 0;

	memset(res, 0, sizeof(*res));
	o.cap = len + 4096;
	o.p = malloc(o.cap);
	o.oom = !o.p;
	while (pos < len) {
		enum sip_reason r = sip_parse(in + pos, len - pos, flags, &msg);

		if (r == SIP_R_KEEPALIVE) {
			res->keepalives++;
			put(&o, in + pos, msg.msg_len);
			pos += msg.msg_len;
			if (!tcp)
				break;
			continue;
		}
		if (r != SIP_OK) {
			res->reason = r;
			res->err_off = pos + msg.err_off;
			break;
		}
		one_message(in + pos, &msg, flags, xlat, check, &o, res, hook, hook_ctx, pos);
		pos += msg.msg_len;
		if (!tcp)
			break;
	}
	/* UDP trailing octets, or the rest of a segment after a bad message */
	put(&o, in + pos, len - pos);
	if (o.oom) {
		free(o.p);
		return NULL;
	}
	if (len == 0 && res->reason == SIP_OK)
		res->reason = SIP_R_INCOMPLETE;
	*out_len = o.len;
	return o.p;
}

int rw_parse_endpoint(const char *s, struct sip_endpoint *ep)
{
	const char *host = s, *colon = NULL;
	size_t hlen;
	char *end;

	memset(ep, 0, sizeof(*ep));
	ep->port = 5060;
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb)
			return -1;
		host = s + 1;
		hlen = (size_t)(rb - host);
		if (rb[1] == ':')
			colon = rb + 1;
		else if (rb[1])
			return -1;
	} else {
		colon = strchr(s, ':');
		/* more than one colon: a bare IPv6 address, no port */
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;
		hlen = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (sip_addr_parse(host, hlen, &ep->addr))
		return -1;
	if (*s == '[' && ep->addr.family != 6)
		return -1;
	if (colon) {
		unsigned long v;

		if (!colon[1] || colon[1] < '0' || colon[1] > '9')
			return -1;
		v = strtoul(colon + 1, &end, 10);
		if (*end || v == 0 || v > 65535)
			return -1;
		ep->port = (unsigned short)v;
	}
	return 0;
}
