// SPDX-License-Identifier: GPL-2.0
/*
 * IP addresses as the planner writes them: RFC 5952 text for IPv6 so a
 * rewritten header is the canonical form, dotted quad for IPv4.
 */
#include "sip_lex.h"

int sip_addr_parse(const char *s, size_t len, struct sip_addr *addr)
{
	memset(addr, 0, sizeof(*addr));
	if (len > 64)
		return -1;
	if (sip_parse_ipv4((const u8 *)s, (u32)len, addr->ip)) {
		addr->family = 4;
		return 0;
	}
	if (sip_parse_ipv6((const u8 *)s, (u32)len, addr->ip)) {
		addr->family = 6;
		return 0;
	}
	return -1;
}

bool sip_addr_equal(const struct sip_addr *a, const struct sip_addr *b)
{
	return sip_addr_eq(a, b);
}

static size_t fmt_ipv4(const u8 *ip, char *out)
{
	size_t n = 0;
	int i;

	for (i = 0; i < 4; i++) {
		u32 v = ip[i];

		if (i)
			out[n++] = '.';
		if (v >= 100) {
			u32 h = v / 100;

			out[n++] = (char)('0' + h);
			v -= h * 100;
			out[n++] = sip_dig2[2 * v];
			out[n++] = sip_dig2[2 * v + 1];
		} else if (v >= 10) {
			out[n++] = sip_dig2[2 * v];
			out[n++] = sip_dig2[2 * v + 1];
		} else {
			out[n++] = (char)('0' + v);
		}
	}
	return n;
}

static size_t fmt_hex16(u16 v, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	int shift;
	bool lead = true;

	for (shift = 12; shift >= 0; shift -= 4) {
		u8 d = (u8)((v >> shift) & 0xf);

		if (lead && d == 0 && shift)
			continue;
		lead = false;
		out[n++] = hex[d];
	}
	return n;
}

static size_t fmt_ipv6(const u8 *ip, char *out)
{
	static const u8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	u16 w[8];
	int i, best = -1, bestlen = 1, run = 0;
	size_t n = 0;

	if (!memcmp(ip, mapped, 12)) {
		memcpy(out, "::ffff:", 7);
		return 7 + fmt_ipv4(ip + 12, out + 7);
	}
	for (i = 0; i < 8; i++)
		w[i] = (u16)(ip[2 * i] << 8 | ip[2 * i + 1]);
	/* the longest run of two or more zero words, the first if tied */
	for (i = 0; i < 8; i++) {
		run = w[i] ? 0 : run + 1;
		if (run > bestlen) {
			bestlen = run;
			best = i - run + 1;
		}
	}
	for (i = 0; i < 8; i++) {
		if (i == best) {
			out[n++] = ':';
			out[n++] = ':';
			i += bestlen - 1;
			continue;
		}
		if (i && !(best >= 0 && i == best + bestlen))
			out[n++] = ':';
		n += fmt_hex16(w[i], out + n);
	}
	return n;
}

size_t sip_addr_format(const struct sip_addr *addr, bool brackets, char *out, size_t cap)
{
	char tmp[48];
	size_t n = 0;

	if (addr->family == 4) {
		if (cap >= 15)
			return fmt_ipv4(addr->ip, out);
		n = fmt_ipv4(addr->ip, tmp);
	} else if (addr->family == 6) {
		if (brackets)
			tmp[n++] = '[';
		n += fmt_ipv6(addr->ip, tmp + n);
		if (brackets)
			tmp[n++] = ']';
	} else {
		return 0;
	}
	if (n > cap)
		return 0;
	memcpy(out, tmp, n);
	return n;
}
