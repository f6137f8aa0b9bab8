// SPDX-License-Identifier: GPL-2.0
/*
 * Applies a plan to a copy of the message (userspace, tests).  The kernel
 * mangles the skb edit by edit instead, last to first.
 */
#include "sip_core.h"

size_t sip_apply(const u8 *buf, const struct sip_msg *msg,
		 const struct sip_plan *plan, u8 *out, size_t out_cap)
{
	long need = (long)msg->msg_len + plan->delta;
	long size = msg->msg_len;
	size_t src = 0, dst = 0;
	u16 i;

	if (plan->n_edits > SIP_MAX_EDITS)
		return 0;
	/* sorted, disjoint, inside the message and adding up, or nothing */
	for (i = 0; i < plan->n_edits; i++) {
		const struct sip_edit *e = &plan->edit[i];

		if (e->off < src || (size_t)e->off + e->len > msg->msg_len ||
		    e->repl_len > SIP_MAX_REPL_LEN)
			return 0;
		src = (size_t)e->off + e->len;
		size += (long)e->repl_len - e->len;
	}
	if (size != need || need <= 0 || (size_t)need > out_cap)
		return 0;
	src = 0;
	for (i = 0; i < plan->n_edits; i++) {
		const struct sip_edit *e = &plan->edit[i];

		memcpy(out + dst, buf + src, e->off - src);
		dst += e->off - src;
		memcpy(out + dst, e->repl, e->repl_len);
		dst += e->repl_len;
		src = (size_t)e->off + e->len;
	}
	memcpy(out + dst, buf + src, msg->msg_len - src);
	dst += msg->msg_len - src;
	return dst == (size_t)need ? dst : 0;
}
