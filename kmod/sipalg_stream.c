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
 * A retransmission must leave the router exactly as the first copy did:
 * the receiver may hold part of it already, and the NAT core's sequence
 * adjustment (one correction point per direction, nf_conntrack_seqadj.c)
 * places it where the first copy's length said.  A segment rewritten
 * differently, or not at all, the second time would put bytes of another
 * length at those positions: the receiver would keep a few of them past
 * the end of what it had, and lose as many of the next segment.  The
 * segment a sender retransmits is, almost always, the last one it sent
 * (one SIP message in flight), from its first byte, perhaps with what
 * followed it joined on.  So with the next message's position each
 * direction also keeps where the last segment began and where its first
 * message began in it (or that it began unsure): that segment, sent again,
 * is handled as the first time.  An older segment sent again is parsed
 * from its first byte and changes nothing here.
 *
 * Each direction is one u64, read and written with READ_ONCE()/WRITE_ONCE(),
 * so a segment handled on another CPU sees either the old or the new
 * position, never half of each; two segments of one direction at once are
 * retransmissions of each other:
 *
 *   bits  0-31  LAST: sequence number of the last segment's first byte;
 *   bits 32-47  the next message's offset from LAST (1..0xfffe: AT),
 *               STREAM_LOST, or 0 (with the whole u64: START);
 *   bits 48-63  the offset of the last segment's first message, or
 *               STREAM_UNSURE.
 */
#include <net/netfilter/nf_conntrack_seqadj.h>

#include "sipalg_alg.h"

#define STREAM_LOST	0xffff
#define STREAM_UNSURE	0xffff

static u64 pack(const struct sipalg_seg *seg, u32 next_off)
{
	u32 first = seg->unsure || seg->start >= STREAM_UNSURE ?
		    STREAM_UNSURE : seg->start;

	return (u64)first << 48 | (u64)next_off << 32 | seg->seq;
}

/*
 * Whether the receiver of @dir acknowledged every byte before @end (as the
 * sender numbers them: conntrack's TCP tracking takes the NAT core's
 * adjustment off the acknowledgments it records).
 *
 * A flow that has recorded no acknowledgment from the receiver at all was
 * not seen from its handshake: a backup router took it over (conntrackd
 * commits no window state) after the change was made on the active one.
 * The receiver may have nothing to send until this very message reaches
 * it, so waiting for its acknowledgment would stall the connection for
 * good; the change is taken as acknowledged.
 */
static bool acked(struct nf_conn *ct, enum ip_conntrack_dir dir, u32 end)
{
	const struct ip_ct_tcp_state *rcv = &ct->proto.tcp.seen[!dir];
	bool ok;

	spin_lock_bh(&ct->lock);
	ok = !(rcv->flags & IP_CT_TCP_FLAG_MAXACK_SET) ||
	     (s32)(rcv->td_maxack - end) >= 0;
	spin_unlock_bh(&ct->lock);
	return ok;
}

/*
 * Whether a segment of @dir whose first byte is @seq may change the
 * stream's length.  A length change moves the NAT core's correction point
 * to @seq; a segment sent again from before the previous point would then
 * be placed by the wrong offset.  A sender sends again only what was not
 * acknowledged: so the previous change must be, first.  Until then the
 * segment is dropped, and sent again by its sender (a delay of one
 * retransmission, only for back-to-back rewritten messages).
 */
bool sipalg_stream_may_resize(struct nf_conn *ct, enum ip_conntrack_dir dir,
			      u32 seq)
{
	const struct nf_conn_seqadj *seqadj = nfct_seqadj(ct);
	const struct nf_ct_seqadj *way;
	bool pending;
	u32 pos;

	if (!seqadj)
		return true;
	spin_lock_bh(&ct->lock);
	way = &seqadj->seq[dir];
	pos = way->correction_pos;
	pending = way->offset_before != way->offset_after &&
		  (s32)(seq - pos) > 0;
	spin_unlock_bh(&ct->lock);
	return !pending || acked(ct, dir, pos + 1);
}

/*
 * Where, in the @len payload bytes of a segment of direction @dir whose
 * first byte is @seq, a message begins: sets @seg.  Returns false when none
 * does: the segment lies wholly inside a message, or after a gap (a
 * segment before it has not been seen yet).
 */
bool sipalg_stream_start(struct nf_conn *ct, enum ip_conntrack_dir dir,
			 u32 seq, unsigned int len, struct sipalg_seg *seg)
{
	u64 v = READ_ONCE(sipalg_ct_data(ct)->stream[dir]);
	u32 last = (u32)v, next_off = (v >> 32) & 0xffff, first = v >> 48;
	s32 ahead = (s32)(last + next_off - seq); /* the next message's offset */

	seg->seq = seq;
	seg->start = 0;
	seg->unsure = false;
	seg->old = false;
	seg->acked = false;
	if (!v)
		return true;			/* START */
	if (seq == last) {
		/* The last segment again: as the first time. */
		seg->unsure = first == STREAM_UNSURE;
		if (!seg->unsure)
			seg->start = first;
		return seg->start < len;
	}
	if ((s32)(seq - last) < 0) {
		/* An older one: the position stays as it is. */
		seg->unsure = true;
		seg->old = true;
		seg->acked = acked(ct, dir, seq + len);
		return true;
	}
	if (next_off == STREAM_LOST) {
		seg->unsure = true;
		return true;
	}
	/*
	 * Past a gap, or inside a message whose end is known (its body, or
	 * the rest of the last segment sent again): nothing begins here.
	 */
	if (ahead < 0 || (u32)ahead >= len)
		return false;
	seg->start = ahead;
	return true;
}

/* After the segment @seg of @dir, the next message begins at @next. */
void sipalg_stream_at(struct nf_conn *ct, enum ip_conntrack_dir dir,
		      const struct sipalg_seg *seg, u32 next)
{
	u32 off = next - seg->seq;

	WRITE_ONCE(sipalg_ct_data(ct)->stream[dir],
		   pack(seg, off && off < STREAM_LOST ? off : STREAM_LOST));
}

/* After the segment @seg, @dir is inside a message whose end is unknown. */
void sipalg_stream_lost(struct nf_conn *ct, enum ip_conntrack_dir dir,
			const struct sipalg_seg *seg)
{
	WRITE_ONCE(sipalg_ct_data(ct)->stream[dir], pack(seg, STREAM_LOST));
}
