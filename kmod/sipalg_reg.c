// SPDX-License-Identifier: GPL-2.0
/*
 * Signalling flows that stay reachable.  When the 2xx to a REGISTER grants
 * an expiry, the signalling conntrack is kept alive at least that long (the
 * UDP timeout alone would let the router's mapping die after 30-180 s and
 * the registrar's INVITE would be lost), and the registered Contact gets a
 * pinhole for new flows from the registrar.  Expiry 0 removes the pinhole.
 * The 2xx to an INVITE (a call answered, or a re-INVITE such as a session
 * timer's refresh accepted) keeps the call's flow alive for call_timeout,
 * so that the far end's BYE or re-INVITE still finds the mapping.
 *
 * Both raise one deadline, the flow's keep_until in the conntrack's helper
 * area: the latest one granted wins.  It is never lowered, neither by a
 * registration's expiry 0 nor by a BYE, because one flow may carry a
 * registration and many calls and no per-call state says which of them
 * still needs it.  It is written under ct->lock because both directions of
 * a flow may be helped at once on two CPUs.
 */
#include <linux/moduleparam.h>
#include <net/netfilter/nf_conntrack_ecache.h>
#include <net/netfilter/nf_conntrack_helper.h>

#include "sipalg_alg.h"
#include "sipalg_compat.h"

#define SIP_DEFAULT_EXPIRES	3600	/* RFC 3261 10.2.1.1 */

static struct sipalg_ct_data *ct_data(struct nf_conn *ct)
{
	NF_CT_HELPER_BUILD_BUG_ON(sizeof(struct sipalg_ct_data));
	return nfct_help_data(ct);
}

static u16 contact_port(const struct sip_contact *c)
{
	if (c->hp.port.len)
		return c->hp.portval;
	return c->sips ? 5061 : 5060;
}

static bool contact_is(const struct sip_contact *c,
		       const struct sip_endpoint *ep)
{
	return !c->star && c->hp.host_kind != SIP_HOST_NAME &&
	       contact_port(c) == ep->port &&
	       sip_addr_equal(&c->hp.addr, &ep->addr);
}

/*
 * The expiry the 2xx grants to the phone's binding @phone (as the registrar
 * knows it): its Contact's expires parameter, else the Expires header, else
 * the default.  0 when the 2xx does not list the binding (it was removed).
 */
static u32 granted_expiry(const struct sip_msg *msg,
			  const struct sip_endpoint *phone)
{
	unsigned int i;

	for (i = 0; i < msg->n_contacts; i++) {
		const struct sip_contact *c = &msg->contact[i];

		if (!contact_is(c, phone))
			continue;
		if (c->has_expires)
			return c->expires;
		return msg->has_expires ? msg->expires : SIP_DEFAULT_EXPIRES;
	}
	return 0;
}

/*
 * Only a live flow is kept alive: a TCP connection that is closing or
 * closed (FIN or RST seen; the TCP tracker has already moved its state for
 * this packet) goes with the TCP timeouts, or a closed connection would
 * stay in the table for the registration's lifetime.
 */
static bool flow_alive(const struct nf_conn *ct)
{
	return nf_ct_protonum(ct) != IPPROTO_TCP ||
	       READ_ONCE(ct->proto.tcp.state) == TCP_CONNTRACK_ESTABLISHED;
}

/* Longest keep-alive we grant, whatever the registrar or call_timeout say. */
#define SIPALG_MAX_KEEP_SECS	(24 * 3600)

static unsigned int call_timeout = 3600;
module_param(call_timeout, uint, 0644);
MODULE_PARM_DESC(call_timeout,
		 "seconds a call's signalling flow is kept alive after the 2xx to its INVITE or re-INVITE, so that the far end's BYE still finds the NAT mapping; 0: off, at most 86400 (larger counts as 86400) (default 3600, as nf_conntrack_sip's sip_timeout)");

/*
 * Keep @ct alive for @secs from now at least (the deadline only moves
 * later), and refresh it now if it would expire sooner.
 *
 * A refreshed timeout raises no conntrack event of its own, so conntrackd
 * would carry the protocol timeout of the flow's last event to a backup
 * router, which then drops a registration's or call's flow while it is
 * still needed.  An event is raised with the refresh: ctnetlink puts the
 * timeout in every update, whichever bit it carries, and IPCT_HELPER adds
 * nothing a helped flow's update does not carry anyway.  The cached event
 * is delivered when this packet is confirmed, after the refresh.
 */
static void keep_flow(struct nf_conn *ct, const struct sk_buff *skb,
		      u32 secs)
{
	struct sipalg_ct_data *data = ct_data(ct);
	unsigned long until = jiffies + secs * HZ;

	spin_lock_bh(&ct->lock);
	if (!data->keep_until || time_after(until, data->keep_until))
		data->keep_until = until;
	spin_unlock_bh(&ct->lock);
	if (flow_alive(ct) && nf_ct_expires(ct) < secs * HZ) {
		sipalg_ct_refresh(ct, skb, secs * HZ);
		nf_conntrack_event_cache(IPCT_HELPER, ct);
	}
}

/*
 * A 2xx to REGISTER travelling in @dir, to the phone.  @xlat (NULL for an
 * untranslated flow) tells the phone's public and private endpoints.
 */
void sipalg_reg_response(struct sk_buff *skb, struct nf_conn *ct,
			 const struct sipalg_policy *pol,
			 enum ip_conntrack_dir dir, const struct sip_msg *msg,
			 const struct sip_xlat *xlat)
{
	struct sip_endpoint phone;
	u32 secs;
	bool nat = xlat && xlat->side == SIP_RECEIVER_NATED;

	if (nat) {
		phone = xlat->external;
	} else {
		sipalg_inet_to_addr(&ct->tuplehash[dir].tuple.dst.u3,
				    nf_ct_l3num(ct), &phone.addr);
		phone.port = ntohs(ct->tuplehash[dir].tuple.dst.u.all);
	}
	secs = granted_expiry(msg, &phone);
	if (!secs && nat)
		secs = granted_expiry(msg, &xlat->internal); /* pinhole mode */
	secs = min_t(u32, secs, SIPALG_MAX_KEEP_SECS);

	if (!secs) {
		if (sipalg_expect_remove(ct, pol, SIPALG_EXPECT_SIGNALLING, -1))
			sipalg_policy_count(pol, SIPALG_CTR_REG_RELEASED);
		return;
	}
	keep_flow(ct, skb, secs);
	sipalg_expect_signalling(ct, pol, dir, &phone, nat ? xlat : NULL, secs);
	sipalg_policy_count(pol, SIPALG_CTR_REG_TRACKED);
}

/* A 2xx to an INVITE on @ct: the call is up, or refreshed. */
void sipalg_call_answered(struct nf_conn *ct, const struct sk_buff *skb)
{
	u32 secs = min_t(u32, READ_ONCE(call_timeout), SIPALG_MAX_KEEP_SECS);

	if (secs)
		keep_flow(ct, skb, secs);
}

/*
 * ctnetlink creates @ct with sipalg as its helper: a sync daemon commits a
 * flow on a backup router.  conntrackd carries the helper's name and the
 * timeout, not the helper's area (@attr is NULL: sipalg exports no helper
 * data), so the flow's own deadline is lost, and its next packet would put
 * it back on the protocol timeout: a registration's or call's flow would
 * expire on the backup after one silent UDP timeout.  The committed timeout
 * is set only after this returns, so the deadline cannot be taken from it;
 * the flow is kept call_timeout from the commit instead, as long as a
 * call's flow after its last answered INVITE (the next 2xx to a REGISTER
 * or INVITE through the backup raises it as usual).  The conntrack is not
 * in the table yet, so no other CPU sees its area: no lock.  An existing
 * flow that ctnetlink only updates keeps its own deadline.
 */
int sipalg_reg_synced(struct nlattr *attr, struct nf_conn *ct)
{
	u32 secs = min_t(u32, READ_ONCE(call_timeout), SIPALG_MAX_KEEP_SECS);

	if (!nf_ct_is_confirmed(ct) && secs)
		ct_data(ct)->keep_until = jiffies + secs * HZ;
	return 0;
}

/*
 * Every packet of the flow refreshes its conntrack to the protocol timeout;
 * put the registration's or call's lifetime back on top of it, while the
 * flow lives.
 */
void sipalg_reg_keepalive(struct nf_conn *ct, const struct sk_buff *skb)
{
	unsigned long until = READ_ONCE(ct_data(ct)->keep_until);
	long left;

	if (!until)
		return;
	left = (long)(until - jiffies);
	if (left > 0 && flow_alive(ct) && nf_ct_expires(ct) < (unsigned long)left)
		sipalg_ct_refresh(ct, skb, left);
}
