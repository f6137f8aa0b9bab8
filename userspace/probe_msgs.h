/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The messages `sipalgctl probe` sends: what a phone sends, with its
 * private address where a phone writes it (Via with rport, Contact, From,
 * Call-ID, SDP o=, c=, m=, a=rtcp), each carrying the probe header.
 */
#ifndef SIPALG_PROBE_MSGS_H
#define SIPALG_PROBE_MSGS_H

#include <stdbool.h>
#include <stddef.h>

enum probe_msg {
	PROBE_REGISTER = 0,
	PROBE_INVITE,
	PROBE_OPTIONS,
	PROBE_INVITE_BIG,	/* over 1500 bytes: fragmented over UDP */
	PROBE_COMPACT,		/* compact header names */
	PROBE_N_MSGS
};

/* Where the phone is and what it talks to. */
struct probe_addrs {
	char host[64];		/* the phone's address as SIP writes it ("[v6]" bracketed) */
	bool ipv6;
	unsigned int port;	/* the phone's port */
	char server[64];	/* the reflector's host as SIP writes it */
};

const char *probe_msg_name(enum probe_msg m);

/*
 * The message in out (cap bytes); UNIQUE makes branch, tag and Call-ID
 * fresh, HEADER is the X-Sipalg-Probe line (with its CRLF).  Returns its
 * length, 0 if cap is too small.
 */
size_t probe_msg_build(enum probe_msg m, bool tcp, const struct probe_addrs *a,
		       const char *unique, const char *header, char *out, size_t cap);

#endif
