/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Translations drawn from a message and a hash of its bytes, shared by the
 * differential fuzzer (fuzz_diff.c) and the cross-architecture replay
 * (tests/arch/replay.c): both run a few plans per input that depend only
 * on the input, so two builds can be compared plan for plan.
 */
#ifndef SIPALG_FUZZ_XLAT_H
#define SIPALG_FUZZ_XLAT_H

#include <string.h>

#include "sip_core.h"

static unsigned long long fnv(const unsigned char *d, size_t n)
{
	unsigned long long h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ d[i]) * 1099511628211ull;
	return h;
}

/* translation k of the message: its top Via, first Contact, first c= or 192.168.0.2 */
static void xlat_for(const struct sip_msg *m1, unsigned int k, unsigned long long h,
		     struct sip_xlat *x, struct sip_port_map *map)
{
	struct sip_endpoint mine = { 0 }, other = { 0 };
	const struct sip_hostport *hp = NULL;
	unsigned int i;

	memset(x, 0, sizeof(*x));
	if (k == 0 && m1->n_vias)
		hp = &m1->via[0].sent_by;
	else if (k == 1 && m1->n_contacts && !m1->contact[0].star && !m1->contact[0].nonsip)
		hp = &m1->contact[0].hp;
	if (hp && hp->host_kind != SIP_HOST_NAME) {
		mine.addr = hp->addr;
		mine.port = hp->port.len ? hp->portval : 5060;
	} else if (k == 2 && m1->n_sdp && m1->sdp[0].conn.ip.family) {
		mine.addr = m1->sdp[0].conn.ip;
		mine.port = 5060;
	} else {
		sip_addr_parse("192.168.0.2", 11, &mine.addr);
		mine.port = 5060;
	}
	if (mine.addr.family == 6)
		sip_addr_parse("2001:db8::1", 11, &other.addr);
	else
		sip_addr_parse("203.0.113.100", 13, &other.addr);
	other.port = (h >> (7 + k)) & 1 ? 5060 : (unsigned short)(1 + ((h >> 8) % 65535));
	x->side = (enum sip_side)((h >> k) & 1);
	x->mode = ((h >> (12 + k)) & 7) == 0 ? SIP_MODE_PINHOLE : SIP_MODE_REWRITE;
	x->internal = x->side == SIP_SENDER_NATED ? mine : other;
	x->external = x->side == SIP_SENDER_NATED ? other : mine;
	for (i = 0; i < m1->n_media; i++) {
		map[i].old_port = m1->media[i].portval;
		map[i].new_port = (unsigned short)(1 + ((h >> (24 + i)) % 65535));
	}
	x->media_map = map;
	x->n_media_map = (h >> 40) & 1 ? i : 0;
}

#endif
