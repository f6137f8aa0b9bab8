// SPDX-License-Identifier: GPL-2.0
/*
 * Message framing: start line, header section (folding, compact names,
 * the header index), mandatory headers, Content-Length against the bytes
 * present.  Interpreted header values are handed to sip_headers.c, the
 * body to sdp_parse.c.
 */
#include "sip_internal.h"

static const char *const reason_names[SIP_R__COUNT] = {
	[SIP_OK]			= "ok",
	[SIP_R_BAD_START_LINE]		= "bad-start-line",
	[SIP_R_BAD_HEADER]		= "bad-header",
	[SIP_R_BAD_LINE_END]		= "bad-line-end",
	[SIP_R_BAD_VIA]			= "bad-via",
	[SIP_R_BAD_CONTACT]		= "bad-contact",
	[SIP_R_BAD_CONTENT_LENGTH]	= "bad-content-length",
	[SIP_R_NO_CONTENT_LENGTH]	= "no-content-length",
	[SIP_R_BODY_TRUNCATED]		= "body-truncated",
	[SIP_R_BAD_CSEQ]		= "bad-cseq",
	[SIP_R_BAD_CALL_ID]		= "bad-call-id",
	[SIP_R_BAD_EXPIRES]		= "bad-expires",
	[SIP_R_BAD_CONTENT_TYPE]	= "bad-content-type",
	[SIP_R_BAD_SDP]			= "bad-sdp",
	[SIP_R_TOO_LONG]		= "too-long",
	[SIP_R_TOO_MANY_HEADERS]	= "too-many-headers",
	[SIP_R_TOO_MANY_VALUES]		= "too-many-values",
	[SIP_R_INCOMPLETE]		= "incomplete",
	[SIP_R_MISSING_HEADER]		= "missing-header",
	[SIP_R_BAD_MULTIPART]		= "bad-multipart",
	[SIP_R_KEEPALIVE]		= "keepalive",
};

const char *sip_reason_name(enum sip_reason reason)
{
	if ((unsigned int)reason >= SIP_R__COUNT)
		return "unknown";
	return reason_names[reason];
}

/* Methods are case-sensitive (RFC 3261 7.1). */
enum sip_method sip_method_id(const u8 *s, u32 len)
{
	switch (len) {
	case 3:
		if (sip_eq(s, "ACK", 3))
			return SIP_M_ACK;
		if (sip_eq(s, "BYE", 3))
			return SIP_M_BYE;
		break;
	case 4:
		if (sip_eq(s, "INFO", 4))
			return SIP_M_INFO;
		break;
	case 5:
		if (sip_eq(s, "PRACK", 5))
			return SIP_M_PRACK;
		if (sip_eq(s, "REFER", 5))
			return SIP_M_REFER;
		break;
	case 6:
		if (sip_eq(s, "INVITE", 6))
			return SIP_M_INVITE;
		if (sip_eq(s, "CANCEL", 6))
			return SIP_M_CANCEL;
		if (sip_eq(s, "UPDATE", 6))
			return SIP_M_UPDATE;
		if (sip_eq(s, "NOTIFY", 6))
			return SIP_M_NOTIFY;
		break;
	case 7:
		if (sip_eq(s, "OPTIONS", 7))
			return SIP_M_OPTIONS;
		if (sip_eq(s, "MESSAGE", 7))
			return SIP_M_MESSAGE;
		if (sip_eq(s, "PUBLISH", 7))
			return SIP_M_PUBLISH;
		break;
	case 8:
		if (sip_eq(s, "REGISTER", 8))
			return SIP_M_REGISTER;
		break;
	case 9:
		if (sip_eq(s, "SUBSCRIBE", 9))
			return SIP_M_SUBSCRIBE;
		break;
	}
	return SIP_M_OTHER;
}

/*
 * Header names the core interprets, long and compact forms.  Dispatch on
 * length and first letter so an uninterpreted name costs one comparison
 * at most.
 */
static enum sip_hdr_id header_id(const u8 *s, u32 len)
{
	u8 c0 = lc(s[0]);

	switch (len) {
	case 1:
		switch (c0) {
		case 'v': return SIP_HDR_VIA;
		case 'm': return SIP_HDR_CONTACT;
		case 'l': return SIP_HDR_CONTENT_LENGTH;
		case 'c': return SIP_HDR_CONTENT_TYPE;
		case 'i': return SIP_HDR_CALL_ID;
		case 'f': return SIP_HDR_FROM;
		case 't': return SIP_HDR_TO;
		}
		break;
	case 2:
		if (c0 == 't' && sip_ieq(s, "to", 2))
			return SIP_HDR_TO;
		break;
	case 3:
		if (c0 == 'v' && sip_ieq(s, "via", 3))
			return SIP_HDR_VIA;
		break;
	case 4:
		if (c0 == 'c' && sip_ieq(s, "cseq", 4))
			return SIP_HDR_CSEQ;
		if (c0 == 'f' && sip_ieq(s, "from", 4))
			return SIP_HDR_FROM;
		break;
	case 7:
		if (c0 == 'c') {
			if (sip_ieq(s, "contact", 7))
				return SIP_HDR_CONTACT;
			if (sip_ieq(s, "call-id", 7))
				return SIP_HDR_CALL_ID;
		} else if (c0 == 'e' && sip_ieq(s, "expires", 7)) {
			return SIP_HDR_EXPIRES;
		}
		break;
	case 12:
		if (c0 == 'c' && sip_ieq(s, "content-type", 12))
			return SIP_HDR_CONTENT_TYPE;
		break;
	case 14:
		if (c0 == 'c' && sip_ieq(s, "content-length", 14))
			return SIP_HDR_CONTENT_LENGTH;
		break;
	}
	return SIP_HDR_OTHER;
}

/*
 * lit (a header name and its colon, n bytes, lower case) at q in any case:
 * *id = hid and the name's length, or 0 if it is not there
 */
static SIP_ALWAYS_INLINE u32 name_colon(const u8 *q, const char *lit, u32 n,
					enum sip_hdr_id hid, enum sip_hdr_id *id)
{
	if (!sip_ieq(q, lit, n))
		return 0;
	*id = hid;
	return n - 1;
}

/*
 * The interpreted names as nearly every stack writes them, the colon right
 * after the name: told by one or two word compares at the line start
 * instead of a class run over the name and header_id().  q has at least
 * 16 bytes in bounds (the longest, "content-length:", is 15).  Returns the
 * name's length with *id set, 0 for any other line (the general path takes
 * it).  Where it matches, the general path would find the same: the colon
 * ends the name's token run, and header_id() gives the same id.
 */
static SIP_ALWAYS_INLINE u32 known_name(const u8 *q, enum sip_hdr_id *id)
{
	switch (q[0] | 0x20) {
	case 'v':
		return name_colon(q, "via:", 4, SIP_HDR_VIA, id) ?:
		       name_colon(q, "v:", 2, SIP_HDR_VIA, id);
	case 'c':
		return name_colon(q, "call-id:", 8, SIP_HDR_CALL_ID, id) ?:
		       name_colon(q, "contact:", 8, SIP_HDR_CONTACT, id) ?:
		       name_colon(q, "cseq:", 5, SIP_HDR_CSEQ, id) ?:
		       name_colon(q, "content-type:", 13, SIP_HDR_CONTENT_TYPE, id) ?:
		       name_colon(q, "content-length:", 15, SIP_HDR_CONTENT_LENGTH, id);
	case 'f':
		return name_colon(q, "from:", 5, SIP_HDR_FROM, id);
	case 't':
		return name_colon(q, "to:", 3, SIP_HDR_TO, id);
	case 'e':
		return name_colon(q, "expires:", 8, SIP_HDR_EXPIRES, id);
	}
	return 0;
}

#define SIP_VERSION	"sip/2.0"

/* Finds the CRLF ending the line at p; bare CR or LF are refused. */
static enum sip_reason line_end(struct sip_pstate *ps, u32 p, u32 lim, u32 *eol)
{
	const u8 *b = ps->b;
	u32 max = p + SIP_MAX_LINE_LEN < lim ? p + SIP_MAX_LINE_LEN : lim;
	u32 e = (u32)(swar_skip(b + p, b + max, swar_crlf) - b);

	for (; e < max && b[e] != '\r' && b[e] != '\n'; e++)
		;
	if (e == max)
		return fail(ps, max < lim ? SIP_R_TOO_LONG : SIP_R_INCOMPLETE, e);
	if (b[e] == '\n')
		return fail(ps, SIP_R_BAD_LINE_END, e);
	if (e + 1 >= lim)
		return fail(ps, SIP_R_INCOMPLETE, lim);
	if (b[e + 1] != '\n')
		return fail(ps, SIP_R_BAD_LINE_END, e);
	*eol = e;
	return SIP_OK;
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF */
static enum sip_reason status_line(struct sip_pstate *ps, u32 eol)
{
	const u8 *b = ps->b;
	struct sip_msg *msg = ps->msg;
	u32 p;

	if (eol < 12 || !sip_ieq(b, SIP_VERSION, 7) || b[7] != ' ')
		return fail(ps, SIP_R_BAD_START_LINE, 0);
	for (p = 8; p < 11; p++)
		if (!cc_is(b[p], CC_DIGIT))
			return fail(ps, SIP_R_BAD_START_LINE, p);
	if (b[8] < '1' || b[8] > '6')
		return fail(ps, SIP_R_BAD_START_LINE, 8);
	if (b[11] != ' ')
		return fail(ps, SIP_R_BAD_START_LINE, 11);
	msg->status = (u16)((b[8] - '0') * 100 + (b[9] - '0') * 10 + (b[10] - '0'));
	/* Reason-Phrase: visible text, SP, HTAB, UTF-8; may be empty */
	for (p = 12; p < eol; p++)
		if ((b[p] < 0x20 && b[p] != '\t') || b[p] == 0x7f)
			return fail(ps, SIP_R_BAD_START_LINE, p);
	msg->reason.off = 12;
	msg->reason.len = (u16)(eol - 12);
	return SIP_OK;
}

/* Request-Line = Method SP Request-URI SP SIP-Version CRLF */
static enum sip_reason request_line(struct sip_pstate *ps, u32 eol)
{
	struct sip_msg *msg = ps->msg;
	struct sip_cur c = { ps->b, 0, eol };
	struct sip_hostport hp;
	struct sip_uri uri = { .hp = &hp };
	u32 mlen, u0;

	mlen = hv_run(&c, CC_TOKEN);
	if (!mlen || !cur_eat(&c, ' '))
		return fail(ps, SIP_R_BAD_START_LINE, c.p);
	msg->is_request = 1;
	msg->method_span.off = 0;
	msg->method_span.len = (u16)mlen;
	msg->method = (u8)sip_method_id(ps->b, mlen);
	u0 = c.p;
	if (!sip_parse_uri(&c, SIP_URI_REQUEST, &uri) || !cur_eat(&c, ' '))
		return fail(ps, SIP_R_BAD_START_LINE, c.p);
	msg->ruri.off = (u16)u0;
	msg->ruri.len = (u16)(c.p - 1 - u0);
	if (eol - c.p != 7 || !sip_ieq(ps->b + c.p, SIP_VERSION, 7))
		return fail(ps, SIP_R_BAD_START_LINE, c.p);
	return SIP_OK;
}

static enum sip_reason start_line(struct sip_pstate *ps, u32 lim, u32 *next)
{
	enum sip_reason r;
	u32 eol;

	r = line_end(ps, 0, lim, &eol);
	if (r != SIP_OK)
		return r;
	if (eol >= 4 && sip_ieq(ps->b, "sip/", 4))
		r = status_line(ps, eol);
	else
		r = request_line(ps, eol);
	*next = eol + 2;
	return r;
}

/*
 * Inside a quoted string, 8 bytes at a time to the first byte that needs
 * a look.  Out of line: its constants stay out of the per-line path.
 */
static __attribute__((__noinline__)) const u8 *quoted_run(const u8 *q, const u8 *end)
{
	return swar_skip(q, end, swar_special);
}

/*
 * Scans one header value from q to its terminating CRLF: folds (CRLF +
 * SP/HTAB) continue it; a bare CR or LF, a control byte or NUL outside a
 * quoted-pair ends the message as malformed.  Returns the CR of the
 * terminating CRLF, or NULL with the reason in *r.  This is the hot loop
 * of the parser: outside quoted strings 8 plain bytes take a handful of
 * integer operations.
 */
static inline const u8 *scan_value(struct sip_pstate *ps, const u8 *q, const u8 *end,
				   enum sip_reason *r)
{
	const u8 *b = ps->b;
	u32 lim = (u32)(end - b);
	bool inq = false;

	for (;;) {
		u8 ch;

		/* 8 plain bytes at a time; a backslash only matters in quotes */
		if (!inq)
			q = swar_skip(q, end, swar_text_stop);
		else
			q = quoted_run(q, end);
		/* the usual stop is the line's CR: known without a class lookup */
		while (q < end && *q != '\r' && cc_is(*q, CC_VTEXT))
			q++;
		if (q >= end)
			goto incomplete;
		ch = *q;
		if (ch == '\r') {
			if (end - q < 2)
				goto incomplete;
			if (q[1] != '\n') {
				*r = fail(ps, SIP_R_BAD_LINE_END, (u32)(q - b));
				return NULL;
			}
			if (end - q < 3)
				goto incomplete;
			if (q[2] != ' ' && q[2] != '\t')
				return q;
			q += 3;
		} else if (ch == '"') {
			inq = !inq;
			q++;
		} else if (ch == '\\') {
			if (inq) {
				if (end - q < 2)
					goto incomplete;
				if (q[1] == '\r' || q[1] == '\n' || q[1] > 0x7f) {
					*r = fail(ps, SIP_R_BAD_HEADER, (u32)(q - b) + 1);
					return NULL;
				}
				q += 2;
			} else {
				q++;
			}
		} else {
			*r = fail(ps, ch == '\n' ? SIP_R_BAD_LINE_END : SIP_R_BAD_HEADER,
				  (u32)(q - b));
			return NULL;
		}
	}
incomplete:
	*r = fail(ps, SIP_R_INCOMPLETE, lim);
	return NULL;
}

static enum sip_reason dispatch(struct sip_pstate *ps, enum sip_hdr_id id,
				u32 v, u32 vend, u32 name_off)
{
	switch (id) {
	case SIP_HDR_VIA:
		return sip_parse_via(ps, v, vend);
	case SIP_HDR_CONTACT:
		return sip_parse_contact(ps, v, vend);
	case SIP_HDR_CONTENT_LENGTH:
		return sip_parse_content_length(ps, v, vend);
	case SIP_HDR_CONTENT_TYPE:
		return sip_parse_content_type(ps, v, vend);
	case SIP_HDR_CALL_ID:
		return sip_parse_call_id(ps, v, vend);
	case SIP_HDR_CSEQ:
		return sip_parse_cseq(ps, v, vend);
	case SIP_HDR_EXPIRES:
		return sip_parse_expires(ps, v, vend);
	case SIP_HDR_FROM:
		if (ps->seen & SEEN_FROM)
			return fail(ps, SIP_R_BAD_HEADER, name_off);
		ps->seen |= SEEN_FROM;
		return SIP_OK;
	case SIP_HDR_TO:
		if (ps->seen & SEEN_TO)
			return fail(ps, SIP_R_BAD_HEADER, name_off);
		ps->seen |= SEEN_TO;
		return SIP_OK;
	default:
		return SIP_OK;
	}
}

/* message-header = field-name HCOLON field-value CRLF, until an empty line */
static enum sip_reason headers(struct sip_pstate *ps, u32 start, u32 lim)
{
	const u8 *const b = ps->b, *const end = b + lim;
	struct sip_msg *msg = ps->msg;
	const u8 *q = b + start;
	/* a token run started before end stops by end - 1 at the latest */
	bool name_sentinel = !cc_is(end[-1], CC_TOKEN);

	for (;;) {
		const u8 *n0 = q, *nend, *v, *re;
		struct sip_header *h;
		enum sip_reason r;
		enum sip_hdr_id id;
		u32 vo, veo, nl;

		if (q >= end)
			return fail(ps, SIP_R_INCOMPLETE, lim);
		if (!cc_is(*q, CC_TOKEN)) {
			u32 p = (u32)(q - b);

			if (*q == '\r') {
				if (end - q < 2)
					return fail(ps, SIP_R_INCOMPLETE, lim);
				if (q[1] != '\n')
					return fail(ps, SIP_R_BAD_LINE_END, p);
				msg->hdr_end = (u16)(p + 2);
				return SIP_OK;
			}
			return fail(ps, *q == '\n' ? SIP_R_BAD_LINE_END : SIP_R_BAD_HEADER, p);
		}
		/* the common names: the name, its id and the colon at once */
		if (end - q >= 16 && (nl = known_name(q, &id))) {
			nend = q + nl;
			q = nend;
			goto colon;
		}
		/* no bounds check needed when the buffer ends in a non-token byte */
		if (name_sentinel) {
			q = run_to(q + 1, CC_TOKEN);
		} else {
			do
				q++;
			while (q < end && cc_is(*q, CC_TOKEN));
		}
		nend = q;
		if (q >= end || *q != ':') {
			while (q < end && cc_is(*q, CC_WS))
				q++;
			if (q >= end)
				return fail(ps, SIP_R_INCOMPLETE, lim);
			if (*q != ':')
				return fail(ps, SIP_R_BAD_HEADER, (u32)(q - b));
		}
		id = header_id(n0, (u32)(nend - n0));
colon:
		/* SP / HTAB after the colon: plain text, and not the value */
		v = q + 1;
		if (end - v >= 2 && v[0] == ' ' && !cc_is(v[1], CC_WS))
			v++;	/* the usual one SP */
		else
			for (; v < end && cc_is(*v, CC_WS); v++)
				;
		re = scan_value(ps, v, end, &r);
		if (!re) {
			/* an overlong line is that, not an incomplete message */
			if (r == SIP_R_INCOMPLETE && end - n0 > SIP_MAX_LINE_LEN)
				return fail(ps, SIP_R_TOO_LONG, (u32)(n0 - b));
			return r;
		}
		if (re - n0 > SIP_MAX_LINE_LEN)
			return fail(ps, SIP_R_TOO_LONG, (u32)(n0 - b));
		if (msg->n_headers == SIP_MAX_HEADERS)
			return fail(ps, SIP_R_TOO_MANY_HEADERS, (u32)(n0 - b));
		/* the value without the LWS around it */
		if (*v == '\r')	/* folded: the value starts on the next line */
			for (; v < re && cc_is(*v, CC_WS | CC_CRLF); v++)
				;
		q = re;
		while (q > v && cc_is(q[-1], CC_WS | CC_CRLF))
			q--;
		h = &msg->hdr[msg->n_headers++];
		vo = (u32)(v - b);
		veo = (u32)(q - b);
		h->name.off = (u16)(n0 - b);
		h->name.len = (u16)(nend - n0);
		h->value.off = (u16)vo;
		h->value.len = (u16)(veo - vo);
		h->id = (u8)id;
		if (id != SIP_HDR_OTHER) {
			r = dispatch(ps, id, vo, veo, (u32)(n0 - b));
			if (r != SIP_OK)
				return r;
		}
		q = re + 2;
	}
}

/* Via, From, To, Call-ID and CSeq are mandatory (RFC 3261 8.1.1). */
static enum sip_reason mandatory(struct sip_pstate *ps)
{
	struct sip_msg *msg = ps->msg;
	u32 at = msg->hdr_end - 2u;

	if (!msg->n_vias || !(ps->seen & SEEN_FROM) || !(ps->seen & SEEN_TO))
		return fail(ps, SIP_R_MISSING_HEADER, at);
	if (!(ps->seen & SEEN_CALLID))
		return fail(ps, SIP_R_BAD_CALL_ID, at);
	if (!(ps->seen & SEEN_CSEQ))
		return fail(ps, SIP_R_MISSING_HEADER, at);
	/* a request's CSeq names its own method (8.1.1.5) */
	if (msg->is_request &&
	    (ps->cseq_method.len != msg->method_span.len ||
	     memcmp(ps->b + ps->cseq_method.off, ps->b + msg->method_span.off,
		    msg->method_span.len)))
		return fail(ps, SIP_R_BAD_CSEQ, ps->cseq_method.off);
	return SIP_OK;
}

/* Where the message ends: Content-Length, or the datagram's end over UDP. */
static enum sip_reason framing(struct sip_pstate *ps, size_t len, unsigned int flags)
{
	struct sip_msg *msg = ps->msg;
	size_t end;

	if (!msg->has_content_length) {
		if (flags & SIP_PARSE_STREAM)
			return fail(ps, SIP_R_NO_CONTENT_LENGTH, msg->hdr_end - 2u);
		msg->content_length = (u32)(len - msg->hdr_end);
		end = len;
	} else {
		end = (size_t)msg->hdr_end + msg->content_length;
		if (end > SIP_MAX_MSG_LEN)
			return fail(ps, SIP_R_TOO_LONG, msg->content_length_span.off);
		if (end > len)
			return fail(ps, (flags & SIP_PARSE_STREAM) ? SIP_R_INCOMPLETE :
				    SIP_R_BODY_TRUNCATED, (u32)len);
	}
	msg->msg_len = (u16)end;
	msg->body.off = msg->hdr_end;
	msg->body.len = (u16)(end - msg->hdr_end);
	return SIP_OK;
}

/* RFC 5626 keepalives: CRLFs between (TCP) or instead of (UDP) messages. */
static enum sip_reason keepalive(struct sip_pstate *ps, size_t len, unsigned int flags)
{
	const u8 *b = ps->b;
	size_t k = 0;

	while (k + 1 < len && b[k] == '\r' && b[k + 1] == '\n')
		k += 2;
	if (k == 0) {
		if (len == 1 && b[0] == '\r' && (flags & SIP_PARSE_STREAM))
			return fail(ps, SIP_R_INCOMPLETE, 1);
		return fail(ps, b[0] == '\r' ? SIP_R_BAD_LINE_END : SIP_R_BAD_START_LINE, 0);
	}
	if (!(flags & SIP_PARSE_STREAM) && k != len)
		return fail(ps, SIP_R_BAD_START_LINE, (u32)k);
	if (k > SIP_MAX_MSG_LEN)
		k = SIP_MAX_MSG_LEN - 1;
	ps->msg->msg_len = (u16)k;
	return SIP_R_KEEPALIVE;
}

static enum sip_reason parse_message(struct sip_pstate *ps, size_t len, unsigned int flags)
{
	u32 lim, p = 0;
	enum sip_reason r;

	if (len == 0)
		return fail(ps, SIP_R_INCOMPLETE, 0);
	if (ps->b[0] == '\r' || ps->b[0] == '\n')
		return keepalive(ps, len, flags);
	if (len > SIP_MAX_MSG_LEN) {
		if (!(flags & SIP_PARSE_STREAM))
			return fail(ps, SIP_R_TOO_LONG, SIP_MAX_MSG_LEN);
		lim = SIP_MAX_MSG_LEN;
	} else {
		lim = (u32)len;
	}
	r = start_line(ps, lim, &p);
	if (r == SIP_OK)
		r = headers(ps, p, lim);
	if (r == SIP_R_INCOMPLETE && lim < len)
		return fail(ps, SIP_R_TOO_LONG, lim);
	if (r == SIP_OK)
		r = mandatory(ps);
	if (r == SIP_OK)
		r = framing(ps, len, flags);
	if (r == SIP_OK)
		r = sip_parse_body(ps);
	return r;
}

enum sip_reason sip_parse(const u8 *buf, size_t len, unsigned int flags,
			  struct sip_msg *msg)
{
	struct sip_pstate ps;
	enum sip_reason r;

	/* the arrays are initialised entry by entry as they are filled */
	memset(msg, 0, __builtin_offsetof(struct sip_msg, hdr));
	memset(&ps, 0, sizeof(ps));
	ps.b = buf;
	ps.msg = msg;
	r = parse_message(&ps, len, flags);
	if (r != SIP_OK && r != SIP_R_KEEPALIVE)
		msg->err_off = (u16)(ps.err > 0xffff ? 0xffff : ps.err);
	return r;
}
