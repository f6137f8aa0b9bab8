// SPDX-License-Identifier: GPL-2.0
/*
 * NAT side of the ALG: which party of a flow was translated, and applying
 * the core's planned edits to the packet with the kernel's NAT mangling
 * helpers (which also fix checksums and, for TCP, record the sequence
 * adjustment).
 */
#include <linux/in6.h>
#include <linux/percpu.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/netfilter/nf_nat_helper.h>
#include <net/netfilter/nf_conntrack_ecache.h>
#include <net/netfilter/nf_conntrack_seqadj.h>

#include "sipalg_alg.h"

void sipalg_inet_to_addr(const union nf_inet_addr *ia, u8 family,
			 struct sip_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family == NFPROTO_IPV4) {
		a->family = 4;
		memcpy(a->ip, &ia->ip, 4);
	} else {
		a->family = 6;
		memcpy(a->ip, &ia->in6, 16);
	}
}

void sipalg_addr_to_inet(const struct sip_addr *a, union nf_inet_addr *ia)
{
	memset(ia, 0, sizeof(*ia));
	memcpy(ia->all, a->ip, a->family == 4 ? 4 : 16);
}

static void endpoint_of(const struct nf_conn *ct,
			const struct nf_conntrack_tuple *t, bool src,
			struct sip_endpoint *ep)
{
	sipalg_inet_to_addr(src ? &t->src.u3 : &t->dst.u3, nf_ct_l3num(ct),
			    &ep->addr);
	ep->port = ntohs(src ? t->src.u.all : t->dst.u.all);
}

static bool endpoint_equal(const struct sip_endpoint *a,
			   const struct sip_endpoint *b)
{
	return a->port == b->port && sip_addr_equal(&a->addr, &b->addr);
}

/*
 * A packet travelling in @dir was sent from tuple[dir].src and, after NAT,
 * appears to come from tuple[!dir].dst; it is addressed to tuple[dir].dst,
 * which NAT delivers to tuple[!dir].src.  If the sender's pair differs the
 * sender sits behind the NAT (SNAT/masquerade, or a port-forwarded server
 * answering); if the receiver's pair differs, the message is going to the
 * translated side.  Returns false for a flow that is not translated.
 */
bool sipalg_xlat_from_ct(const struct nf_conn *ct, enum ip_conntrack_dir dir,
			 struct sip_xlat *xlat)
{
	const struct nf_conntrack_tuple *t = &ct->tuplehash[dir].tuple;
	const struct nf_conntrack_tuple *r = &ct->tuplehash[!dir].tuple;
	struct sip_endpoint pre, post;

	memset(xlat, 0, sizeof(*xlat));
	endpoint_of(ct, t, true, &pre);
	endpoint_of(ct, r, false, &post);
	if (!endpoint_equal(&pre, &post)) {
		xlat->side = SIP_SENDER_NATED;
		xlat->internal = pre;
		xlat->external = post;
		return true;
	}
	endpoint_of(ct, t, false, &pre);
	endpoint_of(ct, r, true, &post);
	if (!endpoint_equal(&pre, &post)) {
		xlat->side = SIP_RECEIVER_NATED;
		xlat->internal = post;
		xlat->external = pre;
		return true;
	}
	return false;
}

/*
 * A message's edits are applied with one NAT mangle: sip_apply_splice()
 * writes the part of the message from the first edit to the last, as
 * rewritten, into a per-CPU buffer, which replaces that part of the
 * packet, so the payload is moved and its checksum recomputed once.  A
 * span larger than the buffer (a message with kilobytes of headers between
 * its edits) is mangled edit by edit instead.  The buffer is used with
 * bottom halves disabled (sipalg_help() calls in so), so nothing else on
 * this CPU uses it meanwhile.
 */
#define SIPALG_SPLICE_MAX	4096

struct sipalg_splice {
	u8 buf[SIPALG_SPLICE_MAX];
};

static struct sipalg_splice __percpu *splice;

int sipalg_nat_init(void)
{
	splice = alloc_percpu(struct sipalg_splice);
	return splice ? 0 : -ENOMEM;
}

void sipalg_nat_exit(void)
{
	free_percpu(splice);
}

/*
 * TCP edits are applied without recording a sequence adjustment: the
 * conntrack keeps one correction point per direction, which a second edit
 * at the same sequence number would not move, so a segment with several
 * length-changing edits would be adjusted by the first one only.  The
 * segment's total is recorded once, by sipalg_tcp_seqadj(), after every
 * message in it has been handled.
 */
static bool mangle(struct sk_buff *skb, struct nf_conn *ct,
		   enum ip_conntrack_info ctinfo, unsigned int protoff,
		   unsigned int off, unsigned int len, const u8 *repl,
		   unsigned int repl_len)
{
	if (nf_ct_protonum(ct) == IPPROTO_TCP)
		return __nf_nat_mangle_tcp_packet(skb, ct, ctinfo, protoff,
						  off, len, repl, repl_len,
						  false);
	return nf_nat_mangle_udp_packet(skb, ct, ctinfo, protoff, off, len,
					repl, repl_len);
}

/*
 * Make every edit of @plan succeed before the first is applied, so that a
 * message is never left half rewritten: the skb is made writable and given
 * tailroom for the largest growth the edits can reach.
 */
static bool make_room(struct sk_buff *skb, const struct sip_plan *plan)
{
	unsigned int grow = 0;
	int i;

	for (i = 0; i < plan->n_edits; i++)
		if (plan->edit[i].repl_len > plan->edit[i].len)
			grow += plan->edit[i].repl_len - plan->edit[i].len;
	if (skb->len + grow > 65535)
		return false;
	if (skb_ensure_writable(skb, skb->len))
		return false;
	if (grow > skb_tailroom(skb) &&
	    pskb_expand_head(skb, 0, grow - skb_tailroom(skb), GFP_ATOMIC))
		return false;
	return true;
}

/*
 * A TCP segment's payload grew by @delta bytes (negative: shrank): from
 * this segment on, the sequence numbers of its direction (and the ACKs of
 * the other) are shifted by the NAT core.
 *
 * ctnetlink puts a flow's sequence adjustment in an event only when the
 * event carries IPCT_SEQADJ, and nothing in the NAT core raises it: without
 * it conntrackd's backup router would take over the connection with no
 * adjustment and forward the rest of the stream off by the sum of the
 * length changes.  The event is delivered after the helper, when the
 * packet is confirmed, so it carries this segment's adjustment.
 */
void sipalg_tcp_seqadj(struct sk_buff *skb, struct nf_conn *ct,
		       enum ip_conntrack_info ctinfo, unsigned int protoff,
		       s32 delta)
{
	const struct tcphdr *th = (const struct tcphdr *)(skb->data + protoff);

	if (!delta)
		return;
	nf_ct_seqadj_set(ct, ctinfo, th->seq, delta);
	nf_conntrack_event_cache(IPCT_SEQADJ, ct);
}

/* A TCP segment's @len payload bytes removed: a bare acknowledgment. */
bool sipalg_tcp_empty(struct sk_buff *skb, struct nf_conn *ct,
		      enum ip_conntrack_info ctinfo, unsigned int protoff,
		      unsigned int len)
{
	return __nf_nat_mangle_tcp_packet(skb, ct, ctinfo, protoff, 0, len,
					  "", 0, false);
}

/*
 * Apply @plan to the message that starts @msgoff bytes into the L4 payload,
 * in one mangle when its span fits the buffer.  A TCP length change needs the seqadj extension, which the NAT core
 * adds to every helped flow it translates; without it nothing is changed.
 * (The caller records a TCP segment's length change with
 * sipalg_tcp_seqadj().)
 */
bool sipalg_apply_edits(struct sk_buff *skb, struct nf_conn *ct,
			enum ip_conntrack_info ctinfo, unsigned int protoff,
			unsigned int msgoff, const struct sip_plan *plan)
{
	u8 *out = this_cpu_ptr(splice)->buf;
	unsigned int dataoff;
	struct sip_splice span;
	const u8 *msg;
	int i;

	if (nf_ct_protonum(ct) == IPPROTO_TCP && plan->delta && !nfct_seqadj(ct))
		return false;
	if (!make_room(skb, plan))
		return false;
	dataoff = protoff + (nf_ct_protonum(ct) == IPPROTO_TCP ?
			     ((struct tcphdr *)(skb->data + protoff))->doff * 4 :
			     sizeof(struct udphdr));
	msg = skb->data + dataoff + msgoff;
	if (sip_apply_splice(msg, skb->len - dataoff - msgoff, plan, out,
			   SIPALG_SPLICE_MAX, &span))
		return mangle(skb, ct, ctinfo, protoff, msgoff + span.off,
			      span.len, out, span.out_len);
	/* Last to first, so that each edit's offset is still the parsed one. */
	for (i = plan->n_edits - 1; i >= 0; i--) {
		const struct sip_edit *e = &plan->edit[i];

		if (!mangle(skb, ct, ctinfo, protoff, msgoff + e->off, e->len,
			    e->repl, e->repl_len))
			return false;
	}
	return true;
}
