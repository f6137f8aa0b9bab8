/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lexical layer of the core: character classes of RFC 3261 section 25,
 * a cursor over one header value, LWS, tokens, quoted strings, numbers,
 * hosts, ports and SIP URIs.  Internal to kmod/core/.
 */
#ifndef SIPALG_SIP_LEX_H
#define SIPALG_SIP_LEX_H

#include "sip_core.h"

/* Character classes (bits of sip_cc[]). */
#define CC_TOKEN	0x0001	/* token = alphanum / - . ! % * _ + ` ' ~ */
#define CC_DIGIT	0x0002
#define CC_HEX		0x0004
#define CC_ALPHA	0x0008
#define CC_UNRES	0x0010	/* unreserved = alphanum / mark */
#define CC_USER		0x0020	/* user: unreserved / & = + $ , ; ? / */
#define CC_PASS		0x0040	/* password: unreserved / & = + $ , */
#define CC_PARAM	0x0080	/* paramchar: unreserved / [ ] / : & + $ */
#define CC_HNV		0x0100	/* header name/value: unreserved / [ ] / ? : + $ */
#define CC_URIC		0x0200	/* uric: reserved / unreserved */
#define CC_HOST		0x0400	/* hostname chars: alphanum . - */
#define CC_WS		0x0800	/* SP, HTAB */
#define CC_VTEXT	0x1000	/* header value byte needing no attention: not CTL, CR, LF, ", \ */
#define CC_CALLID	0x2000	/* Call-ID: any visible ASCII */
#define CC_SDPTEXT	0x4000	/* SDP value byte needing no attention: not NUL, CR, LF */
#define CC_SCHEME	0x8000	/* scheme: ALPHA / DIGIT / + - . */
#define CC_CRLF		0x10000	/* CR, LF */
#define CC_URISTOP	0x20000	/* ends any URI: > SP HTAB CR LF */
#define CC_BARESTOP	0x40000	/* also ends a bare URI in a Contact: ; , ? */
#define CC_USERB	0x80000	/* CC_USER without CC_BARESTOP (bare URIs) */
#define CC_PASSB	0x100000 /* CC_PASS without CC_BARESTOP (bare URIs) */
#define CC_LABEL	0x200000 /* hostname label: alphanum / "-" */

extern const u32 sip_cc[256];

static inline bool cc_is(u8 c, u32 cls)
{
	return (sip_cc[c] & cls) != 0;
}

static inline u8 lc(u8 c)
{
	return (c >= 'A' && c <= 'Z') ? (u8)(c + 32) : c;
}

/* for the few helpers whose constant folding needs inlining */
#define SIP_ALWAYS_INLINE inline __attribute__((__always_inline__))

/*
 * Word-at-a-time scanning (SWAR): eight bytes tested with a few integer
 * operations, in portable C (no SIMD: usable in the kernel without saving
 * FPU state).  A test flags the high bit of each byte lane that holds a
 * byte of its stop set, e.g. "some byte is zero" is (w - 0x01..) & ~w &
 * 0x80..: a borrow out of a lane happens only where the lane itself is
 * flagged, and runs towards the more significant lane.
 *
 * swar_load() therefore reads the word little-endian on every machine (a
 * byte swap on big-endian ones): lane i is the byte at p + i, a borrow or
 * carry only runs towards higher addresses, and the lowest flagged lane is
 * exact, so its offset is the count of trailing zero bits / 8.  (A native
 * load with a count of leading zeros on big-endian would not do: there a
 * borrow runs towards lower addresses and can flag a byte before the true
 * one.)  memcpy() with a constant size is an unaligned load where the
 * machine has one and safe byte loads where it does not.
 */
#define SWAR_ONES	0x0101010101010101ULL
#define SWAR_HIGHS	0x8080808080808080ULL

static inline u64 swar_load(const u8 *p)
{
	u64 w;

	memcpy(&w, p, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/* Offset (0..7) of the first byte flagged in a non-zero swar_* mask. */
static inline u32 swar_first(u64 mask)
{
	return (u32)__builtin_ctzll(mask) >> 3;
}

/*
 * The one scanning loop: from q, eight bytes a step, to the first byte
 * that test() flags.  It never reads at or past end: with fewer than
 * eight bytes left it stops and returns where it got to, and the caller's
 * byte loop (which it has anyway for the bytes a test flags but its
 * grammar allows) does the tail.  Inlined with test() a constant, a step
 * is a load, the test's few operations and a branch.  Two steps per turn
 * of the loop: half the loop's taken jumps back, which measurably limit
 * the host on these short runs (about 2%); each word keeps its own exit.
 */
static SIP_ALWAYS_INLINE const u8 *swar_skip(const u8 *q, const u8 *end, u64 (*test)(u64 w))
{
	u64 m;

	for (; end - q >= 16; q += 16) {
		m = test(swar_load(q));
		if (m)
			return q + swar_first(m);
		m = test(swar_load(q + 8));
		if (m)
			return q + 8 + swar_first(m);
	}
	if (end - q >= 8) {
		m = test(swar_load(q));
		if (m)
			return q + swar_first(m);
		q += 8;
	}
	return q;
}

/* CR or LF: a line end (bare ones are refused by the caller) */
static inline u64 swar_crlf(u64 w)
{
	u64 r = w ^ (SWAR_ONES * '\r'), n = w ^ (SWAR_ONES * '\n');

	return (((r - SWAR_ONES) & ~r) | ((n - SWAR_ONES) & ~n)) & SWAR_HIGHS;
}

/*
 * Bytes outside visible ASCII 0x21..0x7e (the Call-ID's set): w - 0x21
 * flags the bytes below, w + 1 | w the bytes above.
 */
static inline u64 swar_not_visible(u64 w)
{
	return ((w - SWAR_ONES * 0x21) | (w + SWAR_ONES) | w) & SWAR_HIGHS;
}

/*
 * SDP line text: stops at any byte below 0x0e (NUL, CR and LF among them)
 * and, as the ~w of an exact test is dropped, at bytes >= 0x8e: the
 * caller's byte loop passes HTAB, UTF-8 and the like.
 */
static inline u64 swar_sdp_stop(u64 w)
{
	return (w - SWAR_ONES * 0x0e) & SWAR_HIGHS;
}

/*
 * Non-zero iff some byte of w needs a look inside a quoted string: a
 * control byte (CR, LF and HTAB included), DQUOTE, backslash, DEL or a
 * byte >= 0x80.  As swar_text_stop(), plus w ^ 0x5c - 1 for the
 * backslash (its high bit also set for bytes >= 0x80, flagged anyway).
 * Exact in its lowest flag (see swar_load()); none is missed.
 */
static inline u64 swar_special(u64 w)
{
	u64 t = w ^ (SWAR_ONES * 0x02), z = w ^ (SWAR_ONES * 0x5c);

	return ((t - SWAR_ONES * 0x21) | (z - SWAR_ONES) | (w + SWAR_ONES) | w) & SWAR_HIGHS;
}

/*
 * Non-zero iff some byte of w needs a look in header text outside quoted
 * strings: a control byte (CR, LF and HTAB included), DQUOTE, DEL or a
 * byte >= 0x80 (UTF-8 is text, but rare enough to be looked at byte by
 * byte).  XOR 0x02 maps DQUOTE to 0x20 and the controls onto themselves;
 * t - 0x21 then has the high bit set for them, and for t >= 0xa1 (a byte
 * >= 0x80, flagged anyway), w + 1 for DEL.  Borrows and carries run only
 * towards the more significant byte and only out of a flagged byte: the
 * lowest flag is exact (see swar_load()), and a flag is never missed.
 */
static inline u64 swar_text_stop(u64 w)
{
	u64 t = w ^ (SWAR_ONES * 0x02);

	return ((t - SWAR_ONES * 0x21) | (w + SWAR_ONES) | w) & SWAR_HIGHS;
}

/* k (1, 2, 4 or 8) bytes at s, loaded as a k-byte integer */
static SIP_ALWAYS_INLINE u64 load_k(const u8 *s, size_t k)
{
	u16 w2;
	u32 w4;
	u64 w8;

	switch (k) {
	case 1:
		return s[0];
	case 2:
		memcpy(&w2, s, 2);
		return w2;
	case 4:
		memcpy(&w4, s, 4);
		return w4;
	default:
		memcpy(&w8, s, 8);
		return w8;
	}
}

/*
 * The first k bytes of a string literal as load_k() would load them, built
 * from the characters so that the compiler folds it to a constant (it
 * does not fold a memcpy() from a literal reliably).
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LIT_SH(i, k)	(8 * ((k) - 1 - (i)))
#else
#define LIT_SH(i, k)	(8 * (i))
#endif
#define LIT_B(lit, i, k) \
	((i) < (k) ? (u64)(u8)(lit)[(i) < (k) ? (i) : 0] << LIT_SH(i, k) : 0)

static SIP_ALWAYS_INLINE u64 lit_k(const char *lit, size_t k)
{
	return LIT_B(lit, 0, k) | LIT_B(lit, 1, k) | LIT_B(lit, 2, k) | LIT_B(lit, 3, k) |
	       LIT_B(lit, 4, k) | LIT_B(lit, 5, k) | LIT_B(lit, 6, k) | LIT_B(lit, 7, k);
}

/*
 * k bytes at s equal the literal's, its letters in either case: OR 0x20
 * only where the literal has a letter, every other byte must be equal.
 */
static SIP_ALWAYS_INLINE bool ieq_k(const u8 *s, const char *lit, size_t k)
{
	u64 l = lit_k(lit, k);
	/* 0x20 in each byte of l in 'a'..'z' (literal bytes are < 0x80) */
	u64 letters = ((l + SWAR_ONES * 0x1f) & ~(l + SWAR_ONES * 0x05) & SWAR_HIGHS) >> 2;

	return (load_k(s, k) | letters) == l;
}

/*
 * Case-insensitive compare of n bytes against a lower-case ASCII literal:
 * at most two (overlapping) word compares for n <= 16, folded to
 * constants but for the loads.  Non-letters of the literal must match
 * exactly.
 */
static SIP_ALWAYS_INLINE bool sip_ieq(const u8 *s, const char *lit, size_t n)
{
	size_t i;

	if (n > 16) {
		for (i = 0; i < n; i++)
			if (lc(s[i]) != (u8)lit[i])
				return false;
		return true;
	}
	if (n >= 8)
		return ieq_k(s, lit, 8) && (n == 8 || ieq_k(s + n - 8, lit + n - 8, 8));
	if (n >= 4)
		return ieq_k(s, lit, 4) && (n == 4 || ieq_k(s + n - 4, lit + n - 4, 4));
	if (n >= 2)
		return ieq_k(s, lit, 2) && (n == 2 || ieq_k(s + n - 2, lit + n - 2, 2));
	return n == 0 || ieq_k(s, lit, 1);
}

static SIP_ALWAYS_INLINE bool eq_k(const u8 *s, const char *lit, size_t k)
{
	return load_k(s, k) == lit_k(lit, k);
}

/* Exact compare of n (<= 16) bytes against a literal, the same way. */
static SIP_ALWAYS_INLINE bool sip_eq(const u8 *s, const char *lit, size_t n)
{
	if (n >= 8)
		return eq_k(s, lit, 8) && (n == 8 || eq_k(s + n - 8, lit + n - 8, 8));
	if (n >= 4)
		return eq_k(s, lit, 4) && (n == 4 || eq_k(s + n - 4, lit + n - 4, 4));
	if (n >= 2)
		return eq_k(s, lit, 2) && (n == 2 || eq_k(s + n - 2, lit + n - 2, 2));
	return n == 0 || eq_k(s, lit, 1);
}

/*
 * A cursor over b[p .. end).  Inside a header value a CR is always part of
 * a fold (CRLF followed by SP/HTAB): the header splitter guarantees it, so
 * LWS skipping may treat CR and LF as white space.  On failure the parsing
 * functions leave p at the offending byte: that becomes msg->err_off.
 */
struct sip_cur {
	const u8 *b;
	u32 p;
	u32 end;
};

static inline bool cur_eof(const struct sip_cur *c)
{
	return c->p >= c->end;
}

static inline int cur_peek(const struct sip_cur *c)
{
	return c->p < c->end ? c->b[c->p] : -1;
}

static inline bool cur_eat(struct sip_cur *c, u8 ch)
{
	if (c->p < c->end && c->b[c->p] == ch) {
		c->p++;
		return true;
	}
	return false;
}

/*
 * The hot loops below work on local copies of the cursor: with
 * -fno-strict-aliasing (the kernel's) every byte store/load could alias it
 * and force reloads.
 */

/* Skips SWS (optional LWS); returns true if anything was skipped. */
static inline bool cur_sws(struct sip_cur *c)
{
	const u8 *b = c->b;
	u32 p = c->p, end = c->end, p0 = p;

	while (p < end && (b[p] == ' ' || b[p] == '\t' || b[p] == '\r' || b[p] == '\n'))
		p++;
	c->p = p;
	return p != p0;
}

/* 1*class; returns length consumed (0 = failure, p unchanged). */
static inline u32 cur_run(struct sip_cur *c, u32 cls)
{
	const u8 *b = c->b;
	u32 p = c->p, end = c->end, p0 = p;

	while (p < end && cc_is(b[p], cls))
		p++;
	c->p = p;
	return p - p0;
}

/*
 * Header-value cursors.  A cursor over a header value (LWS around it
 * trimmed) or over the Request-Line has a sentinel: b[end] exists and is
 * SP, HTAB, CR or LF (the value's trailing LWS or its CRLF), and no class
 * a run below takes contains those.  So runs over such a cursor need no
 * bounds check: they stop at end at the latest.  The hv_* helpers,
 * cur_host(), cur_port(), cur_gen_value() and sip_parse_uri() rely on
 * it; SDP lines (whose last one may end the buffer) use the bounded
 * cur_run() and cur_uint().
 */

/*
 * The end of the run of class bytes at q, in a buffer where a byte
 * outside the class comes before the buffer's end (a header-value
 * cursor's sentinel): two bytes a step, q[1] exists while q[0] is in the
 * class.
 */
static inline const u8 *run_to(const u8 *q, u32 cls)
{
	while (cc_is(q[0], cls) && cc_is(q[1], cls))
		q += 2;
	if (cc_is(*q, cls))
		q++;
	return q;
}

static inline u32 hv_run(struct sip_cur *c, u32 cls)
{
	const u8 *s = c->b + c->p, *q = run_to(s, cls);

	c->p += (u32)(q - s);
	return (u32)(q - s);
}

/* 1*DIGIT with value <= max (as cur_uint) over a header-value cursor */
static inline bool hv_uint(struct sip_cur *c, u32 max, u32 *val)
{
	const u8 *b = c->b;
	u32 p = c->p, d;
	u64 v = 0;

	if ((d = (u32)b[p] - '0') > 9)
		return false;
	do {
		v = v * 10 + d;
		if (v > max)
			return false;	/* p unchanged: the number is the error */
		p++;
	} while ((d = (u32)b[p] - '0') <= 9);
	c->p = p;
	*val = (u32)v;
	return true;
}

/*
 * The out-of-line helpers (the *_x functions) take a cursor's address;
 * the inline wrappers hand them a copy, so that callers' cursors never
 * escape and stay in registers.
 */
bool cur_sep_x(struct sip_cur *c, u8 sep);

static inline bool cur_sep_slow(struct sip_cur *c, u8 sep)
{
	struct sip_cur t = *c;
	bool r = cur_sep_x(&t, sep);

	c->p = t.p;
	return r;
}

/* SWS sep SWS (the SEMI, COMMA, EQUAL, SLASH, COLON of RFC 3261). */
static inline bool cur_sep(struct sip_cur *c, u8 sep)
{
	u8 ch;

	if (c->p >= c->end)
		return false;
	/* the common cases: the separator right here, or no separator at all */
	ch = c->b[c->p];
	if (ch == sep) {
		c->p++;
		if (c->p < c->end && cc_is(c->b[c->p], CC_WS | CC_CRLF))
			cur_sws(c);
		return true;
	}
	if (!cc_is(ch, CC_WS | CC_CRLF))
		return false;
	return cur_sep_slow(c, sep);
}

/* quoted-string with quoted-pairs; p at the opening DQUOTE. */
bool cur_quoted_x(struct sip_cur *c);

static inline bool cur_quoted(struct sip_cur *c)
{
	struct sip_cur t = *c;
	bool r = cur_quoted_x(&t);

	c->p = t.p;
	return r;
}

/*
 * 1*DIGIT with value <= max; *val gets it.  Leading zeros are allowed (the
 * grammar allows them); the value, not the digit count, is bounded.
 */
bool cur_uint(struct sip_cur *c, u32 max, u32 *val);

/*
 * host = hostname / IPv4address / IPv6reference over a header-value
 * cursor.  Fills hp->host, hp->host_kind and hp->addr (zero for a name).
 */
bool cur_host_x(struct sip_cur *c, struct sip_hostport *hp);

static inline bool cur_host(struct sip_cur *c, struct sip_hostport *hp)
{
	struct sip_cur t = *c;
	bool r = cur_host_x(&t, hp);

	c->p = t.p;
	return r;
}

/* port = 1*DIGIT, 0..65535 (header-value cursor): fills hp->port and hp->portval. */
static inline bool cur_port(struct sip_cur *c, struct sip_hostport *hp)
{
	u32 p0 = c->p, v;

	if (!hv_uint(c, 65535, &v))
		return false;
	hp->port.off = (u16)p0;
	hp->port.len = (u16)(c->p - p0);
	hp->portval = (u16)v;
	return true;
}

/* gen-value = token / host / quoted-string (header-value cursor) */
static inline bool cur_gen_value(struct sip_cur *c)
{
	u8 ch = c->b[c->p];

	if (ch == '"')
		return cur_quoted(c);
	if (ch == '[') {
		struct sip_hostport hp;

		return cur_host(c, &hp);
	}
	return hv_run(c, CC_TOKEN) > 0;
}

/* s[0 .. len) is a hostname (not an IP literal): SDP's FQDN c= addresses */
bool sip_is_hostname(const u8 *s, u32 len);

/* IPv4address, strict dotted quad without leading zeros. */
bool sip_parse_ipv4(const u8 *s, u32 len, u8 out[4]);
/* IPv6address (RFC 4291 text form, plus RFC 5118 4.10's "::" ":" IPv4). */
bool sip_parse_ipv6(const u8 *s, u32 len, u8 out[16]);

/* Where a URI is found; decides how its end is recognised. */
enum sip_uri_ctx {
	SIP_URI_BRACKETS,	/* inside <...>: ends at '>' */
	SIP_URI_ADDR_SPEC,	/* bare in Contact: ends at ; , or LWS; no '?' */
	SIP_URI_REQUEST,	/* Request-URI: ends at SP */
};

struct sip_uri {
	struct sip_hostport *hp;	/* where host and port go (zeroed first) */
	u8 is_sip:1, sips:1, tls:1;
};

/*
 * Parses a URI at c->p (header-value cursor): SIP-URI / SIPS-URI with the
 * full RFC 3261 grammar, any other absoluteURI by its character set.
 * Leaves p just after it.
 */
bool sip_parse_uri_x(struct sip_cur *c, enum sip_uri_ctx ctx, struct sip_uri *u);

static inline bool sip_parse_uri(struct sip_cur *c, enum sip_uri_ctx ctx, struct sip_uri *u)
{
	struct sip_cur t = *c;
	bool r = sip_parse_uri_x(&t, ctx, u);

	c->p = t.p;
	return r;
}

/* sip_addr_equal() for the hot paths: same family (not 0), same bytes */
static inline bool sip_addr_eq(const struct sip_addr *a, const struct sip_addr *b)
{
	u64 x0, x1, y0, y1;
	u32 x, y;

	if (a->family != b->family || !a->family)
		return false;
	if (a->family == 4) {
		memcpy(&x, a->ip, 4);
		memcpy(&y, b->ip, 4);
		return x == y;
	}
	memcpy(&x0, a->ip, 8);
	memcpy(&x1, a->ip + 8, 8);
	memcpy(&y0, b->ip, 8);
	memcpy(&y1, b->ip + 8, 8);
	return ((x0 ^ y0) | (x1 ^ y1)) == 0;
}

extern const char sip_dig2[200];

/* Appends the decimal digits of v to out; returns the count. */
u8 sip_fmt_u32(u32 v, char *out);

#endif /* SIPALG_SIP_LEX_H */
