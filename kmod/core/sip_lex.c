// SPDX-License-Identifier: GPL-2.0
/*
 * Lexical layer: the RFC 3261 section 25 character classes as one table
 * built at compile time, and the small grammars every header parser shares
 * (LWS separators, quoted strings, numbers, host, port, URIs).
 */
#include "sip_lex.h"

#define IS_DIGIT(c)	((c) >= '0' && (c) <= '9')
#define IS_ALPHA(c)	(((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_ALNUM(c)	(IS_DIGIT(c) || IS_ALPHA(c))
#define IS_HEX(c)	(IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define IS_MARK(c)	((c) == '-' || (c) == '_' || (c) == '.' || (c) == '!' || \
			 (c) == '~' || (c) == '*' || (c) == '\'' || (c) == '(' || (c) == ')')
#define IS_UNRES(c)	(IS_ALNUM(c) || IS_MARK(c))
#define IS_TOKEN(c)	(IS_ALNUM(c) || (c) == '-' || (c) == '.' || (c) == '!' || \
			 (c) == '%' || (c) == '*' || (c) == '_' || (c) == '+' || \
			 (c) == '`' || (c) == '\'' || (c) == '~')
#define IS_USERX(c)	((c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || \
			 (c) == ',' || (c) == ';' || (c) == '?' || (c) == '/')
#define IS_PASSX(c)	((c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',')
#define IS_PARAMX(c)	((c) == '[' || (c) == ']' || (c) == '/' || (c) == ':' || \
			 (c) == '&' || (c) == '+' || (c) == '$')
#define IS_HNVX(c)	((c) == '[' || (c) == ']' || (c) == '/' || (c) == '?' || \
			 (c) == ':' || (c) == '+' || (c) == '$')
#define IS_RESERVED(c)	((c) == ';' || (c) == '/' || (c) == '?' || (c) == ':' || \
			 (c) == '@' || (c) == '&' || (c) == '=' || (c) == '+' || \
			 (c) == '$' || (c) == ',')
#define IS_VTEXT(c)	(((c) >= 0x20 && (c) <= 0x7e && (c) != '"' && (c) != '\\') || \
			 (c) >= 0x80 || (c) == '\t')

#define CC(c) (u32)(							\
	(IS_TOKEN(c) ? CC_TOKEN : 0) |					\
	(IS_DIGIT(c) ? CC_DIGIT : 0) |					\
	(IS_HEX(c) ? CC_HEX : 0) |					\
	(IS_ALPHA(c) ? CC_ALPHA : 0) |					\
	(IS_UNRES(c) ? CC_UNRES : 0) |					\
	((IS_UNRES(c) || IS_USERX(c)) ? CC_USER : 0) |			\
	((IS_UNRES(c) || IS_PASSX(c)) ? CC_PASS : 0) |			\
	((IS_UNRES(c) || IS_PARAMX(c)) ? CC_PARAM : 0) |		\
	((IS_UNRES(c) || IS_HNVX(c)) ? CC_HNV : 0) |			\
	((IS_UNRES(c) || IS_RESERVED(c)) ? CC_URIC : 0) |		\
	((IS_ALNUM(c) || (c) == '.' || (c) == '-') ? CC_HOST : 0) |	\
	(((c) == ' ' || (c) == '\t') ? CC_WS : 0) |			\
	(IS_VTEXT(c) ? CC_VTEXT : 0) |					\
	(((c) > 0x20 && (c) < 0x7f) ? CC_CALLID : 0) |			\
	(((c) != 0 && (c) != '\r' && (c) != '\n') ? CC_SDPTEXT : 0) |	\
	((IS_ALNUM(c) || (c) == '+' || (c) == '-' || (c) == '.') ? CC_SCHEME : 0) | \
	(((c) == '\r' || (c) == '\n') ? CC_CRLF : 0) |			\
	(((c) == '>' || (c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n') ? \
	 CC_URISTOP : 0) |							\
	(((c) == ';' || (c) == ',' || (c) == '?') ? CC_BARESTOP : 0) |	\
	((IS_ALNUM(c) || (c) == '-') ? CC_LABEL : 0) |			\
	((IS_UNRES(c) || ((c) != ';' && (c) != ',' && (c) != '?' && IS_USERX(c))) ? \
	 CC_USERB : 0) |							\
	((IS_UNRES(c) || ((c) != ',' && IS_PASSX(c))) ? CC_PASSB : 0))

#define CC4(c)	CC(c), CC((c) + 1), CC((c) + 2), CC((c) + 3)
#define CC16(c)	CC4(c), CC4((c) + 4), CC4((c) + 8), CC4((c) + 12)
#define CC64(c)	CC16(c), CC16((c) + 16), CC16((c) + 32), CC16((c) + 48)

const u32 sip_cc[256] = { CC64(0), CC64(64), CC64(128), CC64(192) };

bool cur_sep_x(struct sip_cur *c, u8 sep)
{
	u32 p0 = c->p;

	cur_sws(c);
	if (!cur_eat(c, sep)) {
		c->p = p0;
		return false;
	}
	cur_sws(c);
	return true;
}

bool cur_quoted_x(struct sip_cur *c)
{
	const u8 *b = c->b;
	u32 p = c->p, end = c->end;

	if (p >= end || b[p] != '"')
		return false;
	p++;
	for (;;) {
		u8 ch;

		/* plain qdtext 8 bytes at a time */
		p = (u32)(swar_skip(b + p, b + end, swar_special) - b);
		if (p >= end)
			break;
		ch = b[p];
		if (ch == '"') {
			c->p = p + 1;
			return true;
		}
		if (ch == '\\') {
			/* quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F) */
			if (p + 1 >= end)
				break;
			ch = b[p + 1];
			if (ch > 0x7f || ch == '\r' || ch == '\n') {
				p++;
				break;
			}
			p += 2;
			continue;
		}
		/* qdtext: LWS (folds included) / visible / UTF8-NONASCII */
		if ((ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f)
			break;
		p++;
	}
	c->p = p;
	return false;
}

bool cur_uint(struct sip_cur *c, u32 max, u32 *val)
{
	const u8 *b = c->b;
	u32 p = c->p, end = c->end, p0 = p;
	u64 v = 0;

	while (p < end && IS_DIGIT(b[p])) {
		v = v * 10 + (u32)(b[p] - '0');
		if (v > max)
			return false;	/* p unchanged: the number is the error */
		p++;
	}
	if (p == p0)
		return false;
	c->p = p;
	*val = (u32)v;
	return true;
}

/*
 * One dec-octet at s[*i] (s[0 .. len)): 1..3 digits, no leading zero,
 * <= 255, not followed by another digit.
 */
static inline bool dec_octet(const u8 *s, u32 len, u32 *i, u32 *out)
{
	u32 p = *i, v, d;

	if (p >= len || (v = (u32)s[p] - '0') > 9)
		return false;
	p++;
	if (p < len && (d = (u32)s[p] - '0') <= 9) {
		if (!v)
			return false;	/* leading zero */
		v = v * 10 + d;
		p++;
		if (p < len && (d = (u32)s[p] - '0') <= 9) {
			v = v * 10 + d;
			p++;
			if (v > 255 || (p < len && (u32)s[p] - '0' <= 9))
				return false;
		}
	}
	*out = v;
	*i = p;
	return true;
}

/*
 * IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet;
 * out is only written on success.
 */
bool sip_parse_ipv4(const u8 *s, u32 len, u8 out[4])
{
	u32 i = 0, o0, o1, o2, o3;

	/* shortest "0.0.0.0", longest "255.255.255.255" */
	if (len < 7 || len > 15)
		return false;
	if (!dec_octet(s, len, &i, &o0) || i >= len || s[i++] != '.' ||
	    !dec_octet(s, len, &i, &o1) || i >= len || s[i++] != '.' ||
	    !dec_octet(s, len, &i, &o2) || i >= len || s[i++] != '.' ||
	    !dec_octet(s, len, &i, &o3) || i != len)
		return false;
	{
		u8 o[4] = { (u8)o0, (u8)o1, (u8)o2, (u8)o3 };

		memcpy(out, o, 4);	/* one store, for readers of the whole address */
	}
	return true;
}

static u32 hexval(u8 c)
{
	if (IS_DIGIT(c))
		return (u32)(c - '0');
	return (u32)(lc(c) - 'a' + 10);
}

bool sip_parse_ipv6(const u8 *s, u32 len, u8 out[16])
{
	u16 w[8];
	int n = 0, dc = -1, i;
	u32 p = 0, j;
	bool tail4 = false, bug = false;

	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		dc = 0;
		p = 2;
	} else if (len == 0 || s[0] == ':') {
		return false;
	}
	while (p < len) {
		u32 v = 0;

		for (j = p; j < len && IS_HEX(s[j]); j++)
			;
		if (j < len && s[j] == '.') {
			u8 v4[4];

			/* the IPv4 tail takes the last two words */
			if (n > 6 || !sip_parse_ipv4(s + p, len - p, v4))
				return false;
			w[n++] = (u16)(v4[0] << 8 | v4[1]);
			w[n++] = (u16)(v4[2] << 8 | v4[3]);
			tail4 = true;
			p = len;
			break;
		}
		if (j == p || j - p > 4 || n == 8)
			return false;
		for (; p < j; p++)
			v = v << 4 | hexval(s[p]);
		w[n++] = (u16)v;
		if (p == len)
			break;
		if (s[p] != ':')
			return false;
		p++;
		if (p < len && s[p] == ':') {
			if (dc >= 0)
				return false;
			dc = n;
			p++;
			/*
			 * RFC 3261's ABNF allows "hexseq::" ":" IPv4address;
			 * RFC 5118 4.10 asks to tolerate it (same address as
			 * with two colons).
			 */
			if (p < len && s[p] == ':') {
				bug = true;
				p++;
			}
		} else if (p == len) {
			return false;
		}
	}
	if (bug && !tail4)
		return false;
	if (dc < 0) {
		if (n != 8)
			return false;
	} else {
		int gap = 8 - n;

		if (gap < 1)
			return false;
		for (i = 7; i >= dc + gap; i--)
			w[i] = w[i - gap];
		for (i = dc; i < dc + gap; i++)
			w[i] = 0;
	}
	for (i = 0; i < 8; i++) {
		out[2 * i] = (u8)(w[i] >> 8);
		out[2 * i + 1] = (u8)w[i];
	}
	return true;
}

/*
 * hostname = *( domainlabel "." ) toplabel [ "." ]; a label starts and
 * ends with alphanum; the top label starts with ALPHA (so "192.168.1.2x"
 * and "2001" are not hostnames).  Walks the run of CC_HOST bytes (alphanum,
 * "." and "-") at s, up to e at most, label by label: one pass.
 * Returns the run's end, or NULL if the run is empty or not a hostname.
 */
static const u8 *hostname_run(const u8 *s, const u8 *e)
{
	const u8 *q = s, *top;

	for (;;) {
		const u8 *l = q;

		/* a label: alphanum, "-" only inside */
		while (q < e && cc_is(*q, CC_LABEL))
			q++;
		if (q == l || *l == '-' || q[-1] == '-')
			return NULL;
		top = l;
		if (q >= e || *q != '.')
			break;
		q++;
		if (q >= e || !cc_is(*q, CC_LABEL)) {
			/* one trailing "." ends the name; an empty label does not */
			if (q < e && *q == '.')
				return NULL;
			break;
		}
	}
	return IS_ALPHA(*top) ? q : NULL;
}

/*
 * A dotted quad at s, the start of a run of CC_HOST bytes that a non-host
 * byte follows (a header-value cursor's run): reading one byte past a
 * digit stays inside the run or reads that byte, so no bounds checks.
 * Returns the end of the quad (the caller compares it with the run's
 * end), NULL if the run does not start with one.
 */
static const u8 *quad_at(const u8 *s, u8 out[4])
{
	u32 k, v, d, a = 0;

	for (k = 0; k < 4; k++) {
		if (k) {
			if (*s != '.')
				return NULL;
			s++;
		}
		if ((v = (u32)s[0] - '0') > 9)
			return NULL;
		if ((d = (u32)s[1] - '0') > 9) {
			s += 1;
		} else if (!v) {
			return NULL;	/* leading zero */
		} else {
			v = v * 10 + d;
			if ((d = (u32)s[2] - '0') > 9) {
				s += 2;
			} else {
				v = v * 10 + d;
				if (v > 255 || (u32)s[3] - '0' <= 9)
					return NULL;
				s += 3;
			}
		}
		a = a << 8 | v;
	}
	/*
	 * Stored from a register: the bytes of an array copied as one word
	 * would stall the load (no store forwarding from narrower stores).
	 */
	out[0] = (u8)(a >> 24);
	out[1] = (u8)(a >> 16);
	out[2] = (u8)(a >> 8);
	out[3] = (u8)a;
	return s;
}

static bool host_ipv6(struct sip_cur *c, struct sip_hostport *hp)
{
	u32 p0 = c->p;

	c->p++;	/* '[' */
	while (c->p < c->end && (IS_HEX(c->b[c->p]) || c->b[c->p] == ':' ||
				 c->b[c->p] == '.'))
		c->p++;
	if (!sip_parse_ipv6(c->b + p0 + 1, c->p - p0 - 1, hp->addr.ip) ||
	    !cur_eat(c, ']')) {
		c->p = p0;
		return false;
	}
	hp->addr.family = 6;
	hp->host_kind = SIP_HOST_IPV6;
	hp->host.off = (u16)p0;
	hp->host.len = (u16)(c->p - p0);
	return true;
}

bool cur_host_x(struct sip_cur *c, struct sip_hostport *hp)
{
	const u8 *b = c->b, *s = b + c->p, *q = s;
	u32 p0 = c->p, p;

	if (*q == '[')
		return host_ipv6(c, hp);
	/*
	 * A dotted quad that no other host byte follows is the whole run:
	 * no need to find the run's end first.  (quad_at() reads digits,
	 * dots and the byte after the last digit: inside the value or its
	 * sentinel.)
	 */
	if (IS_DIGIT(*q)) {
		const u8 *e4 = quad_at(s, hp->addr.ip);

		if (e4 && !cc_is(*e4, CC_HOST)) {
			hp->addr.family = 4;
			hp->host_kind = SIP_HOST_IPV4;
			p = p0 + (u32)(e4 - s);
			goto done;
		}
	}
	q = hostname_run(s, b + c->end);
	if (!q)
		return false;
	p = p0 + (u32)(q - s);
	memset(&hp->addr, 0, sizeof(hp->addr));
	hp->host_kind = SIP_HOST_NAME;
done:
	c->p = p;
	hp->host.off = (u16)p0;
	hp->host.len = (u16)(p - p0);
	return true;
}

bool sip_is_hostname(const u8 *s, u32 len)
{
	u8 ip[4];

	return !sip_parse_ipv4(s, len, ip) && hostname_run(s, s + len) == s + len;
}

/* 1*( class / escaped ) over a header-value cursor; min 0 allows an empty run. */
static inline bool run_esc(struct sip_cur *c, u32 cls, u32 min)
{
	const u8 *b = c->b, *s = b + c->p, *q = s;

	for (;;) {
		q = run_to(q, cls);
		/* escapes are rare: keep them off the loop's path */
		if (__builtin_expect(*q != '%', 1))
			break;
		if ((u32)(q - b) + 2 >= c->end || !IS_HEX(q[1]) || !IS_HEX(q[2])) {
			c->p = (u32)(q - b);
			return false;
		}
		q += 3;
	}
	c->p = (u32)(q - b);
	return (u32)(q - s) >= min;
}

/* The extent in which a SIP URI's userinfo "@" may be found. */
static bool uri_stop(u8 ch, enum sip_uri_ctx ctx)
{
	return cc_is(ch, ctx == SIP_URI_ADDR_SPEC ? CC_URISTOP | CC_BARESTOP : CC_URISTOP);
}

static bool uri_params(struct sip_cur *c, struct sip_uri *u)
{
	while (cur_eat(c, ';')) {
		u32 n0 = c->p, nlen, v0;

		if (!run_esc(c, CC_PARAM, 1))
			return false;
		nlen = c->p - n0;
		if (!cur_eat(c, '='))
			continue;
		v0 = c->p;
		if (!run_esc(c, CC_PARAM, 1))
			return false;
		if (nlen == 9 && sip_ieq(c->b + n0, "transport", 9) &&
		    c->p - v0 == 3 && (sip_ieq(c->b + v0, "tls", 3) ||
				       sip_ieq(c->b + v0, "wss", 3)))
			u->tls = 1;
	}
	if (cur_eat(c, '?')) {
		do {
			if (!run_esc(c, CC_HNV, 1) || !cur_eat(c, '=') ||
			    !run_esc(c, CC_HNV, 0))
				return false;
		} while (cur_eat(c, '&'));
	}
	return true;
}

static bool sip_uri_body(struct sip_cur *c, enum sip_uri_ctx ctx, struct sip_uri *u)
{
	bool bare = ctx == SIP_URI_ADDR_SPEC;
	u32 p0 = c->p, q;

	/*
	 * userinfo is present iff an "@" comes before the URI's end.  Most
	 * URIs have one: read user [":" password] straight away and take it
	 * when an "@" follows.  Every byte so read is one the search for the
	 * "@" below passes over (none is "@" or ends the URI here), so the
	 * outcome is the same, and when the read stops at the URI's end there
	 * is no "@" (no userinfo); anything else goes the long way.
	 */
	/* (the class spelled out per branch: constant classes make tighter loops) */
	if (bare ? run_esc(c, CC_USERB, 1) && (!cur_eat(c, ':') || run_esc(c, CC_PASSB, 0)) :
		   run_esc(c, CC_USER, 1) && (!cur_eat(c, ':') || run_esc(c, CC_PASS, 0))) {
		if (cur_eat(c, '@'))
			goto host;
		if (cur_eof(c) || uri_stop(c->b[c->p], ctx)) {
			c->p = p0;
			goto host;
		}
	}
	c->p = p0;
	{
		const u8 *b = c->b;
		u32 end = c->end;
		u32 stop = ctx == SIP_URI_ADDR_SPEC ? CC_URISTOP | CC_BARESTOP : CC_URISTOP;

		for (q = c->p; q < end && b[q] != '@' && !cc_is(b[q], stop); q++)
			;
	}
	if (q < c->end && c->b[q] == '@') {
		if (!run_esc(c, CC_USER, 1))
			return false;
		if (cur_eat(c, ':') && !run_esc(c, CC_PASS, 0))
			return false;
		if (!cur_eat(c, '@'))
			return false;
	}
host:
	if (!cur_host(c, u->hp))
		return false;
	if (cur_eat(c, ':') && !cur_port(c, u->hp))
		return false;
	/* bare in a Contact, ;params belong to the header, not the URI */
	if (ctx == SIP_URI_ADDR_SPEC)
		return cur_peek(c) != '?';
	return uri_params(c, u);
}

bool sip_parse_uri_x(struct sip_cur *c, enum sip_uri_ctx ctx, struct sip_uri *u)
{
	u32 s0 = c->p, slen;

	memset(u->hp, 0, sizeof(*u->hp));
	u->is_sip = u->sips = u->tls = 0;
	if (cur_eof(c) || !cc_is(c->b[c->p], CC_ALPHA))
		return false;
	if (c->end - s0 >= 4 && sip_ieq(c->b + s0, "sip:", 4)) {
		/* the usual scheme: what the run and the compares below find */
		c->p += 4;
		u->is_sip = 1;
		return sip_uri_body(c, ctx, u);
	}
	slen = hv_run(c, CC_SCHEME);
	if (!cur_eat(c, ':')) {
		c->p = s0 + slen;
		return false;
	}
	if (slen == 3 && sip_ieq(c->b + s0, "sip", 3)) {
		u->is_sip = 1;
		return sip_uri_body(c, ctx, u);
	}
	if (slen == 4 && sip_ieq(c->b + s0, "sips", 4)) {
		u->is_sip = 1;
		u->sips = 1;
		u->tls = 1;
		return sip_uri_body(c, ctx, u);
	}
	/* absoluteURI: scheme ":" 1*uric, by character set only */
	if (ctx == SIP_URI_ADDR_SPEC) {
		u32 p0 = c->p;

		/* ; , ? end a bare URI (RFC 3261 20.10) */
		while (c->p < c->end && !uri_stop(c->b[c->p], ctx)) {
			u8 ch = c->b[c->p];

			if (cc_is(ch, CC_URIC)) {
				c->p++;
			} else if (ch == '%' && c->p + 2 < c->end &&
				   IS_HEX(c->b[c->p + 1]) && IS_HEX(c->b[c->p + 2])) {
				c->p += 3;
			} else {
				break;
			}
		}
		return c->p > p0;
	}
	return run_esc(c, CC_URIC, 1);
}

/* "00" .. "99": two decimal digits per lookup */
const char sip_dig2[200] =
	"0001020304050607080910111213141516171819"
	"2021222324252627282930313233343536373839"
	"4041424344454647484950515253545556575859"
	"6061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

u8 sip_fmt_u32(u32 v, char *out)
{
	/* the digit count first, smallest first: ports and lengths are short */
	u8 n = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 :
	       v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7 :
	       v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
	u8 i = n;

	/* two digits at a time from the end */
	while (i >= 2) {
		u32 q = v / 100, r = v - q * 100;

		i -= 2;
		out[i] = sip_dig2[2 * r];
		out[i + 1] = sip_dig2[2 * r + 1];
		v = q;
	}
	if (i)
		out[0] = (char)('0' + v);
	return n;
}
