// SPDX-License-Identifier: GPL-2.0
/*
 * Values of the header fields the ALG interprets (RFC 3261 section 25):
 * Via, Contact, CSeq, Call-ID, Expires, Content-Length, Content-Type.
 * Each parser gets the value span (folds inside, LWS around it trimmed)
 * and must consume it exactly; anything left over is a violation.
 */
#include "sip_internal.h"

static u8 transport_id(const u8 *s, u32 len)
{
	switch (len) {
	case 2:
		if (sip_ieq(s, "ws", 2))
			return SIP_TP_WS;
		break;
	case 3:
		if (sip_ieq(s, "udp", 3))
			return SIP_TP_UDP;
		if (sip_ieq(s, "tcp", 3))
			return SIP_TP_TCP;
		if (sip_ieq(s, "tls", 3))
			return SIP_TP_TLS;
		if (sip_ieq(s, "wss", 3))
			return SIP_TP_WSS;
		break;
	case 4:
		if (sip_ieq(s, "sctp", 4))
			return SIP_TP_SCTP;
		break;
	}
	return SIP_TP_OTHER;
}

static SIP_ALWAYS_INLINE bool name_is(const u8 *b, u32 off, u32 len, const char *lit,
				       u32 litlen)
{
	return len == litlen && sip_ieq(b + off, lit, litlen);
}

/* received = IPv4address / IPv6address, and [IPv6] per RFC 5118 4.5 */
static bool via_received(struct sip_cur *c)
{
	u32 p0 = c->p;
	u8 ip[16];

	if (cur_peek(c) == '[') {
		struct sip_hostport hp;

		return cur_host(c, &hp) && hp.host_kind == SIP_HOST_IPV6;
	}
	while (c->p < c->end && (cc_is(c->b[c->p], CC_HEX) || c->b[c->p] == ':' ||
				 c->b[c->p] == '.'))
		c->p++;
	if (sip_parse_ipv4(c->b + p0, c->p - p0, ip) ||
	    sip_parse_ipv6(c->b + p0, c->p - p0, ip))
		return true;
	c->p = p0;
	return false;
}

/* via-params: ttl / maddr / received / branch / rport / generic-param */
static bool via_param(struct sip_cur *c, struct sip_via *v)
{
	const u8 *b = c->b;
	u32 n0 = c->p, nl, val;
	bool has_value;

	/* the one nearly every Via has, told by one word compare */
	if (c->end - n0 >= 7 && sip_ieq(b + n0, "branch=", 7)) {
		c->p = n0 + 6;
		cur_sep(c, '=');
		v->has_branch = 1;
		return hv_run(c, CC_TOKEN) > 0;
	}
	nl = hv_run(c, CC_TOKEN);
	if (!nl)
		return false;
	has_value = cur_sep(c, '=');
	if (name_is(b, n0, nl, "branch", 6)) {
		v->has_branch = 1;
		return has_value && hv_run(c, CC_TOKEN) > 0;
	}
	if (name_is(b, n0, nl, "received", 8)) {
		v->has_received = 1;
		return has_value && via_received(c);
	}
	if (name_is(b, n0, nl, "rport", 5)) {
		v->has_rport = 1;
		return !has_value || hv_uint(c, 65535, &val);
	}
	if (name_is(b, n0, nl, "ttl", 3))
		return has_value && hv_uint(c, 255, &val);
	if (name_is(b, n0, nl, "maddr", 5)) {
		struct sip_hostport hp;

		return has_value && cur_host(c, &hp);
	}
	return !has_value || cur_gen_value(c);
}

/*
 * Via = 1#via-parm
 * via-parm = sent-protocol LWS sent-by *( SEMI via-params )
 * sent-protocol = "SIP" SLASH "2.0" SLASH transport
 */
enum sip_reason sip_parse_via(struct sip_pstate *ps, u32 off, u32 end)
{
	struct sip_msg *msg = ps->msg;
	struct sip_cur c = { ps->b, off, end };

	for (;;) {
		struct sip_via *v;
		u32 v0 = c.p, t0, tl;

		if (msg->n_vias == SIP_MAX_VIAS)
			return fail(ps, SIP_R_TOO_MANY_VALUES, c.p);
		v = &msg->via[msg->n_vias];
		memset(v, 0, sizeof(*v));
		if (end - c.p >= 8 && sip_ieq(ps->b + c.p, "sip/2.0/", 8)) {
			/* as nearly every Via writes it: what the SEPs below find */
			c.p += 8;
			if (c.p < end && cc_is(ps->b[c.p], CC_WS | CC_CRLF))
				cur_sws(&c);
		} else {
			if (hv_run(&c, CC_TOKEN) != 3 || !sip_ieq(ps->b + v0, "sip", 3) ||
			    !cur_sep(&c, '/'))
				goto bad;
			t0 = c.p;
			if (hv_run(&c, CC_TOKEN) != 3 || !sip_eq(ps->b + t0, "2.0", 3)) {
				c.p = t0;
				goto bad;
			}
			if (!cur_sep(&c, '/'))
				goto bad;
		}
		t0 = c.p;
		if (end - t0 >= 4 && sip_ieq(ps->b + t0, "udp ", 4)) {
			/* the usual transport and the SP after it: one compare */
			c.p += 3;
			v->transport = SIP_TP_UDP;
		} else {
			tl = hv_run(&c, CC_TOKEN);
			if (!tl)
				goto bad;
			v->transport = transport_id(ps->b + t0, tl);
		}
		if (!cur_sws(&c) || !cur_host(&c, &v->sent_by))
			goto bad;
		if (cur_sep(&c, ':') && !cur_port(&c, &v->sent_by))
			goto bad;
		while (cur_sep(&c, ';'))
			if (!via_param(&c, v))
				goto bad;
		v->value.off = (u16)v0;
		v->value.len = (u16)(c.p - v0);
		msg->n_vias++;
		if (cur_eof(&c))
			return SIP_OK;
		if (!cur_sep(&c, ','))
			goto bad;
	}
bad:
	return fail(ps, SIP_R_BAD_VIA, c.p);
}

/* display-name = *(token LWS) / quoted-string, then LAQUOT */
static bool display_name(struct sip_cur *c)
{
	if (cur_peek(c) == '"') {
		if (!cur_quoted(c))
			return false;
		cur_sws(c);
		return cur_peek(c) == '<';
	}
	for (;;) {
		int ch;

		cur_sws(c);
		ch = cur_peek(c);
		if (ch == '<')
			return true;
		/* RFC 4475 3.1.1.6: "caller<sip:..." (no LWS) is accepted */
		if (ch < 0 || !hv_run(c, CC_TOKEN))
			return false;
	}
}

/* contact-params = c-p-q / c-p-expires / contact-extension */
static bool contact_param(struct sip_cur *c, struct sip_contact *ct)
{
	const u8 *b = c->b;
	u32 n0 = c->p, nl = hv_run(c, CC_TOKEN), val;
	bool has_value;

	if (!nl)
		return false;
	has_value = cur_sep(c, '=');
	if (name_is(b, n0, nl, "expires", 7)) {
		if (!has_value || !hv_uint(c, 0xffffffffu, &val))
			return false;
		ct->expires = val;
		ct->has_expires = 1;
		return true;
	}
	return !has_value || cur_gen_value(c);
}

static bool is_scheme_start(struct sip_cur *c)
{
	u32 p0 = c->p;
	bool r;

	r = cc_is(c->b[c->p], CC_ALPHA) && hv_run(c, CC_SCHEME) && cur_peek(c) == ':';
	c->p = p0;
	return r;
}

/* Contact = ( STAR / (contact-param *(COMMA contact-param)) ) */
enum sip_reason sip_parse_contact(struct sip_pstate *ps, u32 off, u32 end)
{
	struct sip_msg *msg = ps->msg;
	struct sip_cur c = { ps->b, off, end };

	if (msg->n_contacts && msg->contact[0].star)
		return fail(ps, SIP_R_BAD_CONTACT, off);
	if (cur_peek(&c) == '*') {
		/* "*" only alone (RFC 3261 10.2.2) */
		if (msg->n_contacts || c.p + 1 != end)
			return fail(ps, SIP_R_BAD_CONTACT, off);
		memset(&msg->contact[0], 0, sizeof(msg->contact[0]));
		msg->contact[0].star = 1;
		msg->contact[0].value.off = (u16)off;
		msg->contact[0].value.len = 1;
		msg->n_contacts = 1;
		return SIP_OK;
	}
	for (;;) {
		struct sip_contact *ct;
		struct sip_uri uri;
		u32 v0 = c.p, u0;
		bool bracket;

		if (msg->n_contacts == SIP_MAX_CONTACTS)
			return fail(ps, SIP_R_TOO_MANY_VALUES, c.p);
		ct = &msg->contact[msg->n_contacts];
		memset(ct, 0, sizeof(*ct));
		if (cur_eof(&c))
			goto bad;
		bracket = !is_scheme_start(&c);
		if (bracket) {
			if (!display_name(&c))
				goto bad;
			c.p++;	/* '<' */
		}
		u0 = c.p;
		uri.hp = &ct->hp;
		if (!sip_parse_uri(&c, bracket ? SIP_URI_BRACKETS : SIP_URI_ADDR_SPEC, &uri))
			goto bad;
		ct->uri.off = (u16)u0;
		ct->uri.len = (u16)(c.p - u0);
		if (bracket && !cur_eat(&c, '>'))
			goto bad;
		ct->sips = uri.sips;
		ct->tls = uri.tls;
		ct->nonsip = !uri.is_sip;
		while (cur_sep(&c, ';'))
			if (!contact_param(&c, ct))
				goto bad;
		ct->value.off = (u16)v0;
		ct->value.len = (u16)(c.p - v0);
		msg->n_contacts++;
		if (cur_eof(&c))
			return SIP_OK;
		if (!cur_sep(&c, ','))
			goto bad;
	}
bad:
	return fail(ps, SIP_R_BAD_CONTACT, c.p);
}

/* CSeq = 1*DIGIT LWS Method */
enum sip_reason sip_parse_cseq(struct sip_pstate *ps, u32 off, u32 end)
{
	struct sip_msg *msg = ps->msg;
	struct sip_cur c = { ps->b, off, end };
	u32 m0, ml, v;

	if (ps->seen & SEEN_CSEQ)
		return fail(ps, SIP_R_BAD_CSEQ, off);
	ps->seen |= SEEN_CSEQ;
	if (!hv_uint(&c, 0xffffffffu, &v) || !cur_sws(&c))
		return fail(ps, SIP_R_BAD_CSEQ, c.p);
	m0 = c.p;
	ml = hv_run(&c, CC_TOKEN);
	if (!ml || !cur_eof(&c))
		return fail(ps, SIP_R_BAD_CSEQ, c.p);
	msg->cseq = v;
	msg->cseq_method = (u8)sip_method_id(ps->b + m0, ml);
	ps->cseq_method.off = (u16)m0;
	ps->cseq_method.len = (u16)ml;
	return SIP_OK;
}

/* hv_run(c, CC_CALLID), 8 bytes at a time */
static inline u32 callid_run(struct sip_cur *c)
{
	const u8 *b = c->b;
	u32 p = (u32)(swar_skip(b + c->p, b + c->end, swar_not_visible) - b), p0 = c->p;

	c->p = p;
	return p - p0 + hv_run(c, CC_CALLID);
}

/*
 * callid = word [ "@" word ].  Checked as visible ASCII without LWS: the
 * ALG only uses it as an opaque key, and real Call-IDs stray from "word".
 */
enum sip_reason sip_parse_call_id(struct sip_pstate *ps, u32 off, u32 end)
{
	struct sip_cur c = { ps->b, off, end };

	if (ps->seen & SEEN_CALLID)
		return fail(ps, SIP_R_BAD_CALL_ID, off);
	ps->seen |= SEEN_CALLID;
	if (!callid_run(&c) || !cur_eof(&c))
		return fail(ps, SIP_R_BAD_CALL_ID, c.p);
	ps->msg->call_id.off = (u16)off;
	ps->msg->call_id.len = (u16)(end - off);
	return SIP_OK;
}

/* Expires = delta-seconds (32 bit) */
enum sip_reason sip_parse_expires(struct sip_pstate *ps, u32 off, u32 end)
{
	struct sip_cur c = { ps->b, off, end };
	u32 v;

	if (ps->seen & SEEN_EXPIRES)
		return fail(ps, SIP_R_BAD_EXPIRES, off);
	ps->seen |= SEEN_EXPIRES;
	if (!hv_uint(&c, 0xffffffffu, &v) || !cur_eof(&c))
		return fail(ps, SIP_R_BAD_EXPIRES, c.p);
	ps->msg->expires = v;
	ps->msg->has_expires = 1;
	return SIP_OK;
}

/* Content-Length = 1*DIGIT, once */
enum sip_reason sip_parse_content_length(struct sip_pstate *ps, u32 off, u32 end)
{
	struct sip_msg *msg = ps->msg;
	struct sip_cur c = { ps->b, off, end };
	u32 v;

	if (ps->seen & SEEN_CL)
		return fail(ps, SIP_R_BAD_CONTENT_LENGTH, off);
	ps->seen |= SEEN_CL;
	if (!hv_uint(&c, 0xffffffffu, &v) || !cur_eof(&c))
		return fail(ps, SIP_R_BAD_CONTENT_LENGTH, c.p);
	msg->has_content_length = 1;
	msg->content_length = v;
	msg->content_length_span.off = (u16)off;
	msg->content_length_span.len = (u16)(end - off);
	return SIP_OK;
}

/*
 * Content-Type = media-type
 * media-type = m-type SLASH m-subtype *( SEMI m-parameter )
 * m-parameter = m-attribute EQUAL m-value (token / quoted-string)
 */
enum sip_reason sip_parse_content_type(struct sip_pstate *ps, u32 off, u32 end)
{
	const u8 *b = ps->b;
	struct sip_cur c = { b, off, end };
	u32 tl, s0, sl;

	if (ps->seen & SEEN_CT)
		return fail(ps, SIP_R_BAD_CONTENT_TYPE, off);
	ps->seen |= SEEN_CT;
	tl = hv_run(&c, CC_TOKEN);
	if (!tl || !cur_sep(&c, '/'))
		goto bad;
	s0 = c.p;
	sl = hv_run(&c, CC_TOKEN);
	if (!sl)
		goto bad;
	ps->msg->content_type.off = (u16)off;
	ps->msg->content_type.len = (u16)(c.p - off);
	if (name_is(b, off, tl, "application", 11) && name_is(b, s0, sl, "sdp", 3))
		ps->body_kind = SIP_BODY_SDP;
	else if (name_is(b, off, tl, "multipart", 9) &&
		 (name_is(b, s0, sl, "mixed", 5) || name_is(b, s0, sl, "alternative", 11) ||
		  name_is(b, s0, sl, "related", 7)))
		ps->body_kind = SIP_BODY_MULTIPART;
	while (cur_sep(&c, ';')) {
		u32 n0 = c.p, nl = hv_run(&c, CC_TOKEN), v0;
		bool quoted;

		if (!nl || !cur_sep(&c, '='))
			goto bad;
		v0 = c.p;
		quoted = cur_peek(&c) == '"';
		if (quoted ? !cur_quoted(&c) : !hv_run(&c, CC_TOKEN))
			goto bad;
		if (name_is(b, n0, nl, "boundary", 8)) {
			u32 bl = c.p - v0 - (quoted ? 2 : 0);

			/* RFC 2046: 1..70 characters */
			if (bl < 1 || bl > 70) {
				c.p = v0;
				goto bad;
			}
			ps->boundary.off = (u16)(v0 + quoted);
			ps->boundary.len = (u16)bl;
		}
	}
	if (cur_eof(&c))
		return SIP_OK;
bad:
	return fail(ps, SIP_R_BAD_CONTENT_TYPE, c.p);
}
