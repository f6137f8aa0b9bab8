// SPDX-License-Identifier: GPL-2.0
/*
 * Applies a plan: the part of the message its edits cover, rewritten into a
 * buffer (the kernel hands it to one NAT mangle of the packet), or the
 * whole message rewritten into a copy (userspace, tests).
 */
#include "sip_core.h"

bool sip_apply_splice(const u8 *buf, size_t msg_len, const struct sip_plan *plan,
		      u8 *out, size_t out_cap, struct sip_splice *sp)
{
	size_t start, end, dst = 0;
	u16 i;

	if (!plan->n_edits || plan->n_edits > SIP_MAX_EDITS)
		return false;
	start = plan->edit[0].off;
	end = start;
	/* sorted, disjoint, inside the message, fitting out, or nothing */
	for (i = 0; i < plan->n_edits; i++) {
		const struct sip_edit *e = &plan->edit[i];

		if (e->off < end || (size_t)e->off + e->len > msg_len ||
		    e->repl_len > SIP_MAX_REPL_LEN)
			return false;
		dst += e->off - end + e->repl_len;
		end = (size_t)e->off + e->len;
	}
	if ((long)dst != (long)(end - start) + plan->delta || dst > out_cap)
		return false;
	dst = 0;
	for (i = 0, end = start; i < plan->n_edits; i++) {
		const struct sip_edit *e = &plan->edit[i];

		memcpy(out + dst, buf + end, e->off - end);
		dst += e->off - end;
		memcpy(out + dst, e->repl, e->repl_len);
		dst += e->repl_len;
		end = (size_t)e->off + e->len;
	}
	sp->off = start;
	sp->len = end - start;
	sp->out_len = dst;
	return true;
}

size_t sip_apply(const u8 *buf, const struct sip_msg *msg,
		 const struct sip_plan *plan, u8 *out, size_t out_cap)
{
	size_t len = msg->msg_len, tail;
	struct sip_splice s;

	if (!plan->n_edits) {
		if (len > out_cap)
			return 0;
		memcpy(out, buf, len);
		return len;
	}
	s.off = plan->edit[0].off;
	if (s.off > out_cap ||
	    !sip_apply_splice(buf, len, plan, out + s.off, out_cap - s.off, &s))
		return 0;
	tail = len - s.off - s.len;
	if (tail > out_cap - s.off - s.out_len)
		return 0;
	memcpy(out, buf, s.off);
	memcpy(out + s.off + s.out_len, buf + s.off + s.len, tail);
	return s.off + s.out_len + tail;
}
