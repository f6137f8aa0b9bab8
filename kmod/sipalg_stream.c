// SPDX-License-Identifier: GPL-2.0
/*
 * SIP over TCP: where the next message starts, in each direction.
 *
 * A TCP segment need not begin with a message: a large INVITE is written
 * in several segments (an SDP offer over the MSS of a PPPoE or IPv6 path),
 * and the second begins in the middle of its body.  Parsed from its first
 * byte such a continuation would look malformed, and with malformed=drop
 * be dropped on every retransmission, stalling the connection for good.
 * So each direction of a flow remembers, in the conntrack's helper area,
 * the sequence number at which its next message begins, as the sender
 * numbered it (the helper runs before the NAT core adjusts sequence
 * numbers).  Three states:
 *
 *   START  nothing seen yet: the next data segment begins with a message;
 *   AT     the next message begins at the remembered sequence number (a
 *          message cut by a segment end whose Content-Length was read);
 *   LOST   inside a message whose end is unknown (its header section was
 *          cut, or it did not parse): a segment that does not parse from
 *          its first byte is taken for a continuation, one that does
 *          begins a message again.
 *
 * Each direction is one u64 (state and sequence number), read and written
 * with READ_ONCE()/WRITE_ONCE(), so a segment handled on another CPU sees
 * either the old or the new position, never half of each; two segments of
 * one direction at once are retransmissions of each other.
 */
#include "sipalg_alg.h"

enum stream_state {
	STREAM_START = 0,	/* the helper area starts zeroed */
	STREAM_AT,
	STREAM_LOST,
};

static u64 pack(enum stream_state state, u32 seq)
{
	return (u64)state << 32 | seq;
}

/*
 * Where, in the @len payload bytes of a segment of direction @dir whose
 * first byte is @seq, a message begins: sets @seg.  Returns false when none
 * does: the segment lies wholly inside a message, or after a gap (a
 * segment before it has not been seen yet).
 */
bool sipalg_stream_start(const struct nf_conn *ct, enum ip_conntrack_dir dir,
			 u32 seq, unsigned int len, struct sipalg_seg *seg)
{
	u64 v = READ_ONCE(sipalg_ct_data(ct)->stream[dir]);
	s32 ahead = (s32)((u32)v - seq);	/* the next message's offset */

	seg->seq = seq;
	seg->start = 0;
	seg->unsure = false;
	seg->old = false;
	switch (v >> 32) {
	case STREAM_AT:
		if (ahead < 0)
			return false;
		if ((u32)ahead >= len) {
			/* Sent before: do what the first pass did. */
			seg->unsure = true;
			seg->old = true;
		} else {
			seg->start = ahead;
		}
		return true;
	case STREAM_LOST:
		seg->unsure = true;
		return true;
	default:
		return true;
	}
}

/* The next message of @dir begins at @seq. */
void sipalg_stream_at(struct nf_conn *ct, enum ip_conntrack_dir dir, u32 seq)
{
	WRITE_ONCE(sipalg_ct_data(ct)->stream[dir], pack(STREAM_AT, seq));
}

/* @dir is inside a message whose end is unknown. */
void sipalg_stream_lost(struct nf_conn *ct, enum ip_conntrack_dir dir)
{
	WRITE_ONCE(sipalg_ct_data(ct)->stream[dir], pack(STREAM_LOST, 0));
}
