// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: parse -> plan -> apply -> re-parse with docs/design.md
 * section 3's invariants asserted (rw_buffer(check=true) aborts on any
 * violation).  The translation is derived from the input: a hash of the
 * bytes picks the side, mode, framing, the other address and its port and
 * the media map; the address translated is one the message itself carries
 * (top Via, first Contact or first c=), so rewrites really happen.
 */
#include <stdlib.h>
#include <string.h>

#include "sip_core.h"
#include "rewrite.h"

static struct sip_msg msg;

static const char *const others4[] = { "203.0.113.100", "1.2.3.4", "198.51.100.200", "10.0.0.1" };
static const char *const others6[] = { "2001:db8:ffff::1", "::1", "2001:db8:0:1:2:3:4:5", "fe80::1" };

static unsigned long long fnv(const unsigned char *d, size_t n)
{
	unsigned long long h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ d[i]) * 1099511628211ull;
	return h;
}

/* An address the message carries in a rewritable span, if any. */
static bool pick_address(unsigned int which, struct sip_endpoint *ep)
{
	const struct sip_hostport *hp = NULL;

	if (which == 0 && msg.n_vias)
		hp = &msg.via[0].sent_by;
	else if (which == 1 && msg.n_contacts && !msg.contact[0].star && !msg.contact[0].nonsip)
		hp = &msg.contact[0].hp;
	if (hp && hp->host_kind != SIP_HOST_NAME) {
		ep->addr = hp->addr;
		ep->port = hp->port.len ? hp->portval : 5060;
		return ep->port != 0;
	}
	if (which == 2 && msg.n_sdp && msg.sdp[0].conn.ip.family) {
		ep->addr = msg.sdp[0].conn.ip;
		ep->port = 5060;
		return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct sip_port_map map[SIP_MAX_MEDIA];
	struct sip_endpoint mine = { 0 }, other = { 0 };
	struct sip_xlat x = { 0 };
	struct rw_result res;
	unsigned long long h = fnv(data, size);
	unsigned char *out;
	size_t out_len;
	unsigned int i;
	bool tcp = (h >> 2) & 1;

	if (sip_parse(data, size, tcp ? SIP_PARSE_STREAM : 0, &msg) != SIP_OK ||
	    !pick_address((unsigned int)((h >> 3) % 3), &mine)) {
		/* still run the whole path: malformed input must pass unchanged */
		mine.addr.family = 4;
		mine.addr.ip[0] = 192;
		mine.port = 5060;
	}
	{
		const char *o = mine.addr.family == 6 ? others6[(h >> 5) & 3] : others4[(h >> 5) & 3];

		sip_addr_parse(o, strlen(o), &other.addr);
		other.port = (h >> 7) & 1 ? 5060 : (unsigned short)(1 + ((h >> 8) % 65535));
	}
	x.side = (enum sip_side)(h & 1);
	x.mode = ((h >> 1) & 7) == 0 ? SIP_MODE_PINHOLE : SIP_MODE_REWRITE;
	if (x.side == SIP_SENDER_NATED) {
		x.internal = mine;
		x.external = other;
	} else {
		x.internal = other;
		x.external = mine;
	}
	for (i = 0; i < msg.n_media && i < SIP_MAX_MEDIA; i++) {
		map[i].old_port = msg.media[i].portval;
		map[i].new_port = (unsigned short)(1 + ((h >> (24 + i)) % 65535));
	}
	x.media_map = map;
	x.n_media_map = (h >> 40) & 1 ? i : 0;
	out = rw_buffer(data, size, tcp, &x, true, &out_len, &res, NULL, NULL);
	if (!out)
		abort();
	if (res.reason != SIP_OK && res.messages == 0 &&
	    (out_len != size || memcmp(out, data, size)))
		abort();	/* malformed: byte for byte */
	free(out);
	return 0;
}
