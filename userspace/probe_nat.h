/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How long the NAT keeps the mapping of a SIP flow when nothing is sent:
 * flows from the phone's address to the reflector's SIP port, each
 * REGISTERs once and asks for an OPTIONS back after a different silence;
 * the longest silence whose OPTIONS still arrives is the lifetime.  A
 * first round spreads the silences over --max-wait and stops at the first
 * loss; a second refines between the last kept and the first lost and
 * tests whether an inbound packet refreshes the mapping.
 *
 * And whether an incoming call gets in on the mapping: the phone's own
 * flow REGISTERs and asks for an INVITE with SDP back, from the
 * reflector's SIP port and from another port.
 */
#ifndef SIPALG_PROBE_NAT_H
#define SIPALG_PROBE_NAT_H

#include "probe_net.h"

struct nat_result {
	unsigned int max_wait_s;
	double kept_s;		/* longest silence the mapping survived; 0 if none tried */
	double lost_s;		/* shortest silence it did not survive; 0 if none within max-wait */
	int inbound_refreshes;	/* 1 yes, 0 no, -1 not measured */
	int port_kept;		/* after expiry, the same public port again: 1, 0, -1 */
	int other_port;		/* an OPTIONS from the reflector's other port got in: 1, 0, -1 */
};

/* 0 done, -1 no flow got an answer (errno-free: the reason is printed). */
int nat_measure(const struct probe_ctx *ctx, unsigned int max_wait_s,
		struct nat_result *res);

struct invite_result {
	int same_port;		/* the INVITE from the reflector's SIP port got in: 1, 0, -1 not tested */
	int other_port;		/* ... from its other port */
};

/* On the phone's UDP socket @fd; -1 in both when the reflector did not answer. */
void invite_check(const struct probe_ctx *ctx, int fd, struct invite_result *res);

#endif
