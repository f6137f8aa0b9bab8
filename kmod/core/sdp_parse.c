// SPDX-License-Identifier: GPL-2.0
/*
 * Bodies: SDP (RFC 8866) as the whole body or as parts of a
 * multipart/mixed|alternative|related body (RFC 2046).  Only what the ALG
 * rewrites or opens pinholes for is interpreted (c=, m=, a=rtcp,
 * a=candidate, direction attributes); every other line need only be
 * "<letter>=<text>".  Lines may end in CRLF or a bare LF: LF-only SDP is
 * common and must be handled like any other.
 */
#include "sip_internal.h"

/* SDP token-ish field: visible ASCII */
#define CC_SDPFIELD	CC_CALLID

struct sdp_state {
	struct sip_sdp *sdp;
	struct sip_media *media;	/* current m= section, NULL at session level */
	u8 sess_dir;
	u32 dir_set;			/* media (by index) with their own direction */
};

/* c=<nettype> SP <addrtype> SP <connection-address> */
static bool sdp_conn(const u8 *b, u32 off, u32 end, struct sip_sdp_conn *conn)
{
	struct sip_cur c = { b, off, end };
	u32 n0 = c.p, nl, t0, tl, a0, al;
	bool in, ip4 = false, ip6 = false;

	if (end - off >= 7 && sip_eq(b + off, "IN IP4 ", 7)) {
		/* as nearly every c= line starts: what the runs below find */
		c.p += 7;
		ip4 = true;
	} else {
		nl = cur_run(&c, CC_SDPFIELD);
		if (!nl || !cur_eat(&c, ' '))
			return false;
		t0 = c.p;
		tl = cur_run(&c, CC_SDPFIELD);
		if (!tl || !cur_eat(&c, ' '))
			return false;
		in = nl == 2 && sip_eq(b + n0, "IN", 2);
		if (in && tl == 3) {
			ip4 = sip_eq(b + t0, "IP4", 3);
			ip6 = sip_eq(b + t0, "IP6", 3);
		}
	}
	a0 = c.p;
	if (!ip4 && !ip6) {
		/* another network or address type: well-formed, not ours */
		if (!cur_run(&c, CC_SDPFIELD) || !cur_eof(&c))
			return false;
		conn->addr.off = (u16)a0;
		conn->addr.len = (u16)(c.p - a0);
		conn->present = 1;
		return true;
	}
	while (c.p < end && c.b[c.p] != '/' && cc_is(c.b[c.p], CC_SDPFIELD))
		c.p++;
	al = c.p - a0;
	if (!al)
		return false;
	if (ip4 && sip_parse_ipv4(b + a0, al, conn->ip.ip)) {
		conn->ip.family = 4;
	} else if (ip6 && sip_parse_ipv6(b + a0, al, conn->ip.ip)) {
		conn->ip.family = 6;
	} else {
		/* an FQDN is legal; an IP literal of the other family is not */
		if (!sip_is_hostname(b + a0, al))
			return false;
	}
	/* multicast: /ttl[/n] (IP4) or /n (IP6) */
	while (cur_eat(&c, '/')) {
		u32 v;

		if (!cur_uint(&c, 65535, &v))
			return false;
		conn->multicast = 1;
	}
	if (!cur_eof(&c))
		return false;
	conn->addr.off = (u16)a0;
	conn->addr.len = (u16)al;
	conn->present = 1;
	return true;
}

/* RTP over UDP (and plain UDP) take RTP + RTCP pinholes; T.38 one port. */
static void proto_kind(const u8 *pr, u32 pl, struct sip_media *m)
{
	bool rtp;

	switch (pl) {
	case 3:
		rtp = sip_eq(pr, "udp", 3);
		break;
	case 5:
		if (sip_eq(pr, "udptl", 5) || sip_eq(pr, "UDPTL", 5)) {
			/* T.38 fax: one UDP port, no RTCP */
			m->is_udp = 1;
			return;
		}
		return;
	case 7:
		rtp = sip_eq(pr, "RTP/AVP", 7);
		break;
	case 8:
		rtp = sip_eq(pr, "RTP/SAVP", 8) || sip_eq(pr, "RTP/AVPF", 8);
		break;
	case 9:
		rtp = sip_eq(pr, "RTP/SAVPF", 9);
		break;
	case 17:
		rtp = sip_eq(pr, "UDP/TLS/", 8) && sip_eq(pr + 8, "RTP/SAVPF", 9);
		break;
	default:
		return;
	}
	if (rtp) {
		m->is_udp = 1;
		m->is_rtp = 1;
	}
}

/* m=<media> SP <port>[/<n>] SP <proto> 1*(SP <fmt>) */
static bool sdp_media(const u8 *b, u32 off, u32 end, struct sip_media *m)
{
	struct sip_cur c = { b, off, end };
	u32 p0, v, pl;

	if (!cur_run(&c, CC_SDPFIELD) || !cur_eat(&c, ' '))
		return false;
	m->media.off = (u16)off;
	m->media.len = (u16)(c.p - 1 - off);
	p0 = c.p;
	if (!cur_uint(&c, 65535, &v))
		return false;
	m->port.off = (u16)p0;
	m->port.len = (u16)(c.p - p0);
	m->portval = (u16)v;
	m->nports = 1;
	if (cur_eat(&c, '/')) {
		if (!cur_uint(&c, 65535, &v) || v == 0)
			return false;
		m->nports = (u16)v;
	}
	if (!cur_eat(&c, ' '))
		return false;
	p0 = c.p;
	pl = cur_run(&c, CC_SDPFIELD);
	if (!pl || !cur_eat(&c, ' ') || !cur_run(&c, CC_SDPFIELD))
		return false;
	m->proto.off = (u16)p0;
	m->proto.len = (u16)pl;
	proto_kind(b + p0, pl, m);
	return true;
}

/*
 * a=<name>[:<value>]: the few attributes the ALG needs: candidate, rtcp
 * (media level) and the directions; any other attribute is only text.
 * "name" is followed by ':' or the line end.
 */
static bool sdp_attr(const u8 *b, u32 off, u32 end, struct sdp_state *st, u32 media_idx)
{
	u32 len = end - off, v;
	u8 dir;

	if (!len)
		return true;	/* "a=" may be empty */
	switch (b[off]) {
	case 'c':
		if (len >= 9 && sip_eq(b + off, "candidate", 9) &&
		    (len == 9 || b[off + 9] == ':'))
			st->sdp->has_ice = 1;
		return true;
	case 'r':
		if (len >= 4 && sip_eq(b + off, "rtcp", 4) && (len == 4 || b[off + 4] == ':') &&
		    st->media) {
			/* a=rtcp:<port> [<nettype> <addrtype> <address>] */
			struct sip_cur c = { b, off + 5, end };

			if (len == 4 || !cur_uint(&c, 65535, &v) || v == 0)
				return false;
			if (!cur_eof(&c) && (!cur_eat(&c, ' ') || !cur_run(&c, CC_SDPTEXT)))
				return false;
			st->media->rtcp_port = (u16)v;
			return true;
		}
		if (len != 8 || !sip_eq(b + off, "recvonly", 8))
			return true;
		dir = SIP_SDP_RECVONLY;
		break;
	case 's':
		if (len != 8)
			return true;
		if (sip_eq(b + off, "sendrecv", 8))
			dir = SIP_SDP_SENDRECV;
		else if (sip_eq(b + off, "sendonly", 8))
			dir = SIP_SDP_SENDONLY;
		else
			return true;
		break;
	case 'i':
		if (len != 8 || !sip_eq(b + off, "inactive", 8))
			return true;
		dir = SIP_SDP_INACTIVE;
		break;
	default:
		return true;
	}
	if (st->media) {
		st->media->dir = dir;
		st->dir_set |= 1u << media_idx;
	} else {
		st->sess_dir = dir;
	}
	return true;
}

/* One SDP in b[off .. end): the whole body or one part of a multipart. */
static enum sip_reason sdp_part(struct sip_pstate *ps, u32 off, u32 end)
{
	const u8 *b = ps->b;
	struct sip_msg *msg = ps->msg;
	struct sdp_state st;
	const u8 *q = b + off, *e = b + end;
	u32 lines = 0, m0 = msg->n_media, i;
	bool blank = false;

	if (msg->n_sdp == SIP_MAX_SDP_PARTS)
		return fail(ps, SIP_R_TOO_MANY_VALUES, off);
	memset(&st, 0, sizeof(st));
	st.sdp = &msg->sdp[msg->n_sdp];
	memset(st.sdp, 0, sizeof(*st.sdp));
	st.sdp->body.off = (u16)off;
	st.sdp->body.len = (u16)(end - off);
	while (q < e) {
		const u8 *lsp = q, *lep;
		u32 ls, le, v0;
		struct sip_sdp_conn *conn;
		u8 t;

		/* 8 bytes at a time to the line end (or a NUL) */
		q = swar_skip(q, e, swar_sdp_stop);
		while (q < e && cc_is(*q, CC_SDPTEXT))
			q++;
		lep = q;
		/* CRLF first: the usual line end */
		if (q + 1 < e && q[0] == '\r' && q[1] == '\n')
			q += 2;
		else if (q < e && *q == '\n')
			q++;
		else if (q < e)
			return fail(ps, SIP_R_BAD_SDP, (u32)(q - b));	/* NUL or bare CR */
		/* else the last line, without its line end */
		ls = (u32)(lsp - b);
		if (lep - lsp < 2) {
			if (lep == lsp) {
				/* empty lines only at the end (some stacks add one) */
				blank = true;
				continue;
			}
			return fail(ps, SIP_R_BAD_SDP, ls);
		}
		t = lsp[0];
		if (blank || lsp[1] != '=' || (u8)(t - 'a') > 'z' - 'a')
			return fail(ps, SIP_R_BAD_SDP, ls);
		le = (u32)(lep - b);
		v0 = ls + 2;
		if (lines++ == 0) {
			struct sip_cur c = { b, v0, le };
			u32 v;

			if (t != 'v' || !cur_uint(&c, 0xffffffffu, &v) || !cur_eof(&c))
				return fail(ps, SIP_R_BAD_SDP, ls);
			continue;
		}
		switch (t) {
		case 'o':
			if (!st.media && !st.sdp->origin.len) {
				st.sdp->origin.off = (u16)v0;
				st.sdp->origin.len = (u16)(le - v0);
			}
			break;
		case 'c':
			/* one c= per level: a second one would be left unrewritten */
			conn = st.media ? &st.media->conn : &st.sdp->conn;
			if (conn->present || !sdp_conn(b, v0, le, conn))
				return fail(ps, SIP_R_BAD_SDP, ls);
			break;
		case 'm':
			if (msg->n_media == SIP_MAX_MEDIA)
				return fail(ps, SIP_R_TOO_MANY_VALUES, ls);
			st.media = &msg->media[msg->n_media];
			memset(st.media, 0, sizeof(*st.media));
			st.media->part = (u8)msg->n_sdp;
			if (!sdp_media(b, v0, le, st.media))
				return fail(ps, SIP_R_BAD_SDP, ls);
			msg->n_media++;
			break;
		case 'a':
			if (!sdp_attr(b, v0, le, &st, msg->n_media - 1u - m0))
				return fail(ps, SIP_R_BAD_SDP, ls);
			break;
		}
	}
	if (!lines)
		return fail(ps, SIP_R_BAD_SDP, off);
	for (i = m0; i < msg->n_media; i++)
		if (!(st.dir_set & (1u << (i - m0))))
			msg->media[i].dir = st.sess_dir;
	msg->n_sdp++;
	return SIP_OK;
}

/* Offset of the next "CRLF--boundary" at or after p, or end. */
static u32 find_delim(struct sip_pstate *ps, u32 p, u32 end)
{
	const u8 *b = ps->b, *bd = b + ps->boundary.off;
	u32 bl = ps->boundary.len;

	for (; p + 4 + bl <= end; p++)
		if (b[p] == '\r' && b[p + 1] == '\n' && b[p + 2] == '-' &&
		    b[p + 3] == '-' && !memcmp(b + p + 4, bd, bl))
			return p;
	return end;
}

/*
 * The header lines of one body part; *content is where its content starts.
 * Returns whether the part is application/sdp.
 */
static bool part_headers(const u8 *b, u32 p, u32 end, u32 *content, bool *ok)
{
	bool sdp = false;

	*ok = false;
	for (;;) {
		u32 ls = p;

		if (p + 1 < end && b[p] == '\r' && b[p + 1] == '\n') {
			*content = p + 2;
			*ok = true;
			return sdp;
		}
		/* one header line, folds included */
		for (;;) {
			while (p < end && b[p] != '\r' && b[p] != '\n' && b[p] != 0)
				p++;
			if (p + 1 >= end || b[p] != '\r' || b[p + 1] != '\n')
				return false;
			p += 2;
			if (p < end && (b[p] == ' ' || b[p] == '\t'))
				continue;
			break;
		}
		if (p - ls > 13 && sip_ieq(b + ls, "content-type:", 13)) {
			struct sip_cur c = { b, ls + 13, p - 2 };
			u32 t0;

			cur_sws(&c);
			t0 = c.p;
			if (c.end - t0 >= 15 && sip_ieq(b + t0, "application/sdp", 15)) {
				c.p = t0 + 15;
				sdp = cur_eof(&c) || cur_peek(&c) == ';' ||
				      cur_peek(&c) == ' ' || cur_peek(&c) == '\t';
			}
		}
	}
}

/*
 * multipart-body := [preamble CRLF] dash-boundary CRLF body-part
 *                   *(CRLF dash-boundary CRLF body-part)
 *                   CRLF dash-boundary "--" [CRLF epilogue]
 */
static enum sip_reason multipart(struct sip_pstate *ps)
{
	const u8 *b = ps->b;
	struct sip_msg *msg = ps->msg;
	u32 start = msg->body.off, end = start + msg->body.len;
	u32 bl = ps->boundary.len, p;

	if (!bl)
		return fail(ps, SIP_R_BAD_MULTIPART, start);
	/* the first delimiter may open the body without a CRLF before it */
	if (end - start >= 2 + bl && b[start] == '-' && b[start + 1] == '-' &&
	    !memcmp(b + start + 2, b + ps->boundary.off, bl))
		p = start;
	else if ((p = find_delim(ps, start, end)) == end)
		return fail(ps, SIP_R_BAD_MULTIPART, start);
	else
		p += 2;
	for (;;) {
		u32 q, content;
		bool ok, sdp;

		/* p is at "--boundary" */
		p += 2 + bl;
		if (p + 2 <= end && b[p] == '-' && b[p + 1] == '-')
			return SIP_OK;	/* close delimiter; the epilogue is ignored */
		while (p < end && (b[p] == ' ' || b[p] == '\t'))
			p++;
		if (p + 2 > end || b[p] != '\r' || b[p + 1] != '\n')
			return fail(ps, SIP_R_BAD_MULTIPART, p);
		p += 2;
		q = find_delim(ps, p, end);
		if (q == end)
			return fail(ps, SIP_R_BAD_MULTIPART, end);
		sdp = part_headers(b, p, q, &content, &ok);
		if (!ok)
			return fail(ps, SIP_R_BAD_MULTIPART, p);
		if (sdp && content < q) {
			enum sip_reason r = sdp_part(ps, content, q);

			if (r != SIP_OK)
				return r;
		}
		p = q + 2;
	}
}

enum sip_reason sip_parse_body(struct sip_pstate *ps)
{
	struct sip_msg *msg = ps->msg;

	if (!msg->body.len)
		return SIP_OK;
	if (ps->body_kind == SIP_BODY_SDP)
		return sdp_part(ps, msg->body.off, msg->body.off + msg->body.len);
	if (ps->body_kind == SIP_BODY_MULTIPART)
		return multipart(ps);
	return SIP_OK;
}
