// SPDX-License-Identifier: GPL-2.0
/*
 * docs/design.md section 3 as code: given an input, its parse, the plan and the
 * output, check invariants 1-5 by looking at the bytes and re-parsing the
 * output.  Independent of how the planner reached its decisions, so a
 * planner bug cannot hide itself.
 */
#include "sip_lex.h"

static bool span_is(const struct sip_span *s, const struct sip_edit *e)
{
	return s->len && s->off == e->off && s->len == e->len;
}

static bool hp_has(const struct sip_hostport *hp, const struct sip_edit *e)
{
	return span_is(&hp->host, e) || span_is(&hp->port, e);
}

/* Invariant 1: the edit replaces exactly one allowed span. */
static bool edit_allowed(const struct sip_msg *msg, const struct sip_edit *e)
{
	u16 i;

	switch (e->kind) {
	case SIP_EDIT_VIA:
		return msg->n_vias && hp_has(&msg->via[0].sent_by, e);
	case SIP_EDIT_CONTACT:
		for (i = 0; i < msg->n_contacts; i++)
			if (!msg->contact[i].star && hp_has(&msg->contact[i].hp, e))
				return true;
		return false;
	case SIP_EDIT_SDP_CONN:
		for (i = 0; i < msg->n_sdp; i++)
			if (span_is(&msg->sdp[i].conn.addr, e))
				return true;
		for (i = 0; i < msg->n_media; i++)
			if (span_is(&msg->media[i].conn.addr, e))
				return true;
		return false;
	case SIP_EDIT_SDP_PORT:
		for (i = 0; i < msg->n_media; i++)
			if (span_is(&msg->media[i].port, e))
				return true;
		return false;
	case SIP_EDIT_CONTENT_LENGTH:
		return msg->has_content_length && span_is(&msg->content_length_span, e);
	}
	return false;
}

/* Invariants 1 and 3: out is in with the edits, and nothing else, applied. */
static int check_bytes(const u8 *in, const struct sip_msg *msg,
		       const struct sip_plan *plan, const u8 *out, size_t out_len)
{
	size_t src = 0, dst = 0;
	u16 i;

	if (out_len != (size_t)((long)msg->msg_len + plan->delta))
		return 3;
	for (i = 0; i < plan->n_edits; i++) {
		const struct sip_edit *e = &plan->edit[i];
		size_t keep;

		if (e->off < src || (size_t)e->off + e->len > msg->msg_len)
			return 1;
		if (!edit_allowed(msg, e))
			return 1;
		keep = e->off - src;
		if (dst + keep + e->repl_len > out_len ||
		    memcmp(out + dst, in + src, keep) ||
		    memcmp(out + dst + keep, e->repl, e->repl_len))
			return 3;
		dst += keep + e->repl_len;
		src = (size_t)e->off + e->len;
	}
	if (out_len - dst != msg->msg_len - src || memcmp(out + dst, in + src, out_len - dst))
		return 3;
	return 0;
}

static bool hp_is(const struct sip_hostport *hp, const struct sip_endpoint *ep)
{
	u16 port = hp->port.len ? hp->portval : 5060;

	return hp->host_kind != SIP_HOST_NAME && port == ep->port &&
	       sip_addr_equal(&hp->addr, &ep->addr);
}

static bool hp_well_formed(const struct sip_hostport *hp)
{
	return hp->host_kind != SIP_HOST_NAME && (!hp->port.len || hp->portval);
}

/* Was Contact i of msg (the input) written by an edit of the plan? */
static bool contact_edited(const struct sip_msg *msg, u16 i, const struct sip_plan *plan)
{
	u16 k;

	for (k = 0; k < plan->n_edits; k++)
		if (plan->edit[k].kind == SIP_EDIT_CONTACT &&
		    hp_has(&msg->contact[i].hp, &plan->edit[k]))
			return true;
	return false;
}

/*
 * Invariant 4: whatever was written parses back as an address / a port.
 * Only what was written: a Contact the plan left alone may carry any port
 * the parser accepts (0 included) in the output as in the input.
 */
static int check_written(const struct sip_msg *msg, const struct sip_msg *m2,
			 const struct sip_plan *plan, const struct sip_endpoint *to)
{
	u16 i;
	bool via = false;

	for (i = 0; i < plan->n_edits; i++)
		via |= plan->edit[i].kind == SIP_EDIT_VIA;
	if (via && (!hp_well_formed(&m2->via[0].sent_by) || !hp_is(&m2->via[0].sent_by, to)))
		return 4;
	/* Contacts keep their order and number (invariant 2) */
	for (i = 0; i < m2->n_contacts; i++)
		if (contact_edited(msg, i, plan) &&
		    (!hp_well_formed(&m2->contact[i].hp) || !hp_is(&m2->contact[i].hp, to)))
			return 4;
	for (i = 0; i < m2->n_media; i++)
		if (m2->media[i].port.len == 0)
			return 4;
	for (i = 0; i < plan->n_edits; i++) {
		const struct sip_edit *e = &plan->edit[i];
		u32 v = 0, k;

		if (e->kind != SIP_EDIT_SDP_PORT && e->kind != SIP_EDIT_CONTENT_LENGTH)
			continue;
		if (!e->repl_len)
			return 4;
		for (k = 0; k < e->repl_len; k++) {
			if (e->repl[k] < '0' || e->repl[k] > '9')
				return 4;
			v = v * 10 + (u32)(e->repl[k] - '0');
		}
		if (e->kind == SIP_EDIT_SDP_PORT && (v == 0 || v > 65535))
			return 4;
	}
	return 0;
}

/* Invariant 5: none of the NATed party's spans still carries the address. */
static int check_complete(const struct sip_msg *msg, const struct sip_msg *m2,
			  const struct sip_xlat *x)
{
	bool sender = x->side == SIP_SENDER_NATED;
	const struct sip_endpoint *from = sender ? &x->internal : &x->external;
	bool same_ep = sip_addr_equal(&x->internal.addr, &x->external.addr) &&
		       x->internal.port == x->external.port;
	u16 i;

	if (x->mode != SIP_MODE_REWRITE || !x->internal.addr.family ||
	    x->internal.addr.family != x->external.addr.family ||
	    !x->internal.port || !x->external.port)
		return 0;
	/* the planner refuses to grow a message past the limit */
	if (msg->msg_len > SIP_MAX_MSG_LEN - 2048)
		return 0;
	if (!same_ep && m2->n_vias && (sender ? m2->is_request : !m2->is_request)) {
		const struct sip_via *v = &m2->via[0];

		if ((v->transport == SIP_TP_UDP || v->transport == SIP_TP_TCP ||
		     v->transport == SIP_TP_SCTP) && hp_is(&v->sent_by, from))
			return 5;
	}
	for (i = 0; i < m2->n_contacts && !same_ep; i++) {
		const struct sip_contact *ct = &m2->contact[i];

		if (!ct->star && !ct->nonsip && !ct->tls && hp_is(&ct->hp, from))
			return 5;
	}
	if (!sender || sip_addr_equal(&x->internal.addr, &x->external.addr))
		return 0;
	for (i = 0; i < m2->n_sdp; i++) {
		const struct sip_sdp_conn *c = &m2->sdp[i].conn;

		if (!m2->sdp[i].has_ice && c->present && !c->multicast &&
		    sip_addr_equal(&c->ip, &x->internal.addr))
			return 5;
	}
	for (i = 0; i < m2->n_media; i++) {
		const struct sip_sdp_conn *c = &m2->media[i].conn;

		if (!m2->sdp[m2->media[i].part].has_ice && c->present && !c->multicast &&
		    sip_addr_equal(&c->ip, &x->internal.addr))
			return 5;
	}
	return 0;
}

int sip_check_invariants(const u8 *in, const struct sip_msg *msg,
			 unsigned int flags, const struct sip_xlat *xlat,
			 const struct sip_plan *plan, const u8 *out,
			 size_t out_len, struct sip_msg *scratch)
{
	const struct sip_endpoint *to;
	int r;

	r = check_bytes(in, msg, plan, out, out_len);
	if (r)
		return r;
	if (!plan->n_edits)
		return check_complete(msg, msg, xlat);
	if (xlat->mode != SIP_MODE_REWRITE)
		return 1;
	/* invariant 2: the result is a well-formed message of exactly out_len */
	if (sip_parse(out, out_len, flags | SIP_PARSE_STREAM * !!msg->has_content_length,
		      scratch) != SIP_OK)
		return 2;
	if (scratch->msg_len != out_len || scratch->n_vias != msg->n_vias ||
	    scratch->n_contacts != msg->n_contacts || scratch->n_media != msg->n_media ||
	    scratch->n_sdp != msg->n_sdp || scratch->n_headers != msg->n_headers ||
	    scratch->is_request != msg->is_request)
		return 2;
	if (scratch->has_content_length &&
	    scratch->content_length != (u32)(scratch->msg_len - scratch->hdr_end))
		return 2;
	to = xlat->side == SIP_SENDER_NATED ? &xlat->external : &xlat->internal;
	r = check_written(msg, scratch, plan, to);
	if (r)
		return r;
	return check_complete(msg, scratch, xlat);
}
