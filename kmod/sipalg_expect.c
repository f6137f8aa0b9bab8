// SPDX-License-Identifier: GPL-2.0
/*
 * Pinholes: conntrack expectations for the RTP/RTCP of each accepted m=
 * line and for the registrar's requests to a registered Contact.
 *
 * An expectation admits one new flow to (address, port) from any source
 * (signalling: from the registrar's address).  On a translated flow it is
 * opened on the public address and the new flow is DNATed to the private
 * address:port that was announced.  The public port is the announced one
 * when free, otherwise the next free one; the planner then rewrites the
 * m= port to match.
 *
 * Locking: expectations are created through the conntrack core; they are
 * found, renewed and removed here by walking the flow's own list
 * (help->expectations) under nf_conntrack_expect_lock, the lock the core
 * holds for every change to that list.  The only list kept here is the
 * table of call records (below), under the same lock; it holds no
 * reference to an expectation.
 *
 * Two caps beside the per-flow one: max_netns_expectations on a network
 * namespace, so that one container cannot take every pinhole (checked
 * first, in O(1), see under_netns_cap()), and max_expectations on all
 * namespaces together.  For the latter the module-wide number of live
 * expectations is bounded with an atomic that only grows on creation; it is
 * an upper bound, recounted exactly (one walk of the expectation table,
 * under nf_conntrack_expect_lock with bottom halves off) when it reaches
 * the cap, at most once per SIPALG_RECOUNT_INTERVAL: at the cap, messages
 * in between are refused their pinholes without a walk, so a flood of SDP
 * cannot keep the lock busy.  Pinholes freed meanwhile are usable again
 * from the next recount.
 *
 * Media pinholes belong to a call: a dialog record (struct sipalg_dialog,
 * see "Dialogs" below) names the pinholes each side of one Call-ID asked
 * for on one signalling flow, so that on a trunk carrying many calls over
 * one flow a BYE, or a CANCEL or final error before the call is answered,
 * removes that call's pinholes only, and an offer or answer replaces only
 * its own call's.  A confirmed call's re-INVITE with new media keeps the
 * old pinholes beside the new ones until it is settled (see "Dialogs").
 */
#include <linux/hash.h>
#include <linux/jhash.h>
#include <linux/module.h>
#include <linux/siphash.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_ecache.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <net/netfilter/nf_nat.h>

#include "sipalg_alg.h"
#include "sipalg_compat.h"
#include "uapi/linux/sipalg_genl.h"

static unsigned int max_expectations = 4096;
module_param(max_expectations, uint, 0644);
MODULE_PARM_DESC(max_expectations,
		 "cap on live sipalg pinholes (expectations), all namespaces together (default 4096)");

static unsigned int max_netns_expectations = 1024;
module_param(max_netns_expectations, uint, 0644);
MODULE_PARM_DESC(max_netns_expectations,
		 "cap on the expectations of one network namespace, as the kernel counts them (all helpers'): sipalg opens no pinhole beyond it (default 1024)");

static unsigned int max_flow_dialogs = 64;
module_param(max_flow_dialogs, uint, 0644);
MODULE_PARM_DESC(max_flow_dialogs,
		 "calls (Call-IDs) with media pinholes that one signalling flow may hold; beyond it a new call's SDP opens no pinhole and passes, counted as expectations-failed (default 64)");

static unsigned int max_netns_dialogs = 1024;
module_param(max_netns_dialogs, uint, 0644);
MODULE_PARM_DESC(max_netns_dialogs,
		 "calls (Call-IDs) with media pinholes that one network namespace may hold, all flows together; beyond it a new call's SDP opens no pinhole and passes, counted as expectations-failed (default 1024)");

/* How many ports to try above the announced one when it is taken. */
#define SIPALG_PORT_TRIES	32

static atomic_t live_bound = ATOMIC_INIT(0);

#define SIPALG_RECOUNT_INTERVAL	(HZ / 10)
static unsigned long last_recount;	/* jiffies; claimed with cmpxchg */

/*
 * Dialogs.  A record per call (Call-ID) and signalling flow that has media
 * pinholes: for each side (the direction of the message that carried the
 * SDP) it names the pinholes that side's last offer or answer opened, by
 * what identifies a pinhole on its flow's list (the core refuses two with
 * the same destination): address (hashed), port and protocol.
 *
 * The record holds no reference, neither on the flow nor on its pinholes:
 * it is found by the flow's address and nf_ct_get_id() (conntracks are
 * SLAB_TYPESAFE_BY_RCU, so an address alone may name a later flow), and
 * its pinholes are found by walking the live flow's own list
 * (help->expectations) under nf_conntrack_expect_lock.  A pinhole is thus
 * unlinked only while it is still on its master's list: the core's
 * nf_ct_find_expectation() unlinks a pinhole a packet used without marking
 * it (6.1.y and 6.12.y with the expectation deadline), and unlinking it
 * again would delete an hlist node twice.
 *
 * A record lives as long as its pinholes may: until the media timeout
 * after the last offer, answer or retransmission that opened or renewed
 * them (dlg->until), or until the call's BYE, or its CANCEL or final error
 * while it is not confirmed.  A call is confirmed by the first 2xx to one
 * of its INVITEs; after that a CANCEL or error answers a re-INVITE, which
 * leaves the session as it was (RFC 3261 14.1), so the pinholes stay.
 * Expired records are freed on the next walk of their bucket and by a
 * periodic sweep (dlg_gc), those of a namespace when it is deleted, all of
 * them when the module is unloaded.  Their number is bounded per flow
 * (max_flow_dialogs) and per namespace (max_netns_dialogs); a call over a
 * cap, or whose record cannot be allocated, gets no pinhole (counted in
 * expectations-failed) and its message passes.  Making a record is also
 * where a call is new: there, and only there, it counts against its
 * source's calls cap (sipalg_limit_call_add()), which may refuse it.
 *
 * Locking: the table and every record are read and written under
 * nf_conntrack_expect_lock (bottom halves off), the lock under which the
 * flows' pinhole lists change, so that a record and the list agree.  No
 * RCU readers: a record is freed under the lock.  sipalg_limit.c's table
 * lock is taken inside it, to count a record's call in and out.
 *
 * Offers in flight.  In a confirmed call, SDP that asks for a different
 * set of pinholes in an INVITE transaction not yet settled (the re-INVITE
 * itself, or a provisional response to it) does not replace its side's
 * set at once: the side keeps the set it had (prev) beside the new one
 * (cur) and is "pending".  Until the answer, the offerer must still
 * receive media on the old streams (RFC 3264 8).  The next 2xx to an
 * INVITE of the call drops what prev has and cur has not; a CANCEL or
 * final error drops what cur has and prev has not, and prev is current
 * again.  A call has one INVITE transaction in progress at a time in
 * each direction (RFC 3261 14.1), so that settles the offer; in glare
 * (both sides re-INVITE, both get 491) the first error settles both.  A
 * second different offer while pending replaces cur (what it had and prev
 * has not is dropped) and keeps prev: a side never names more than two
 * sets, so a record is bounded.  SDP outside an INVITE transaction in
 * flight (a 2xx, an ACK), or in a call not confirmed, replaces at once,
 * prev included.  Both sets are in the record (two per side, fixed size):
 * keeping one allocates nothing.  They change under the same lock as the
 * rest of the record, with the pinholes they name; those are on the
 * flow's list as any other, and every cap counts them.  A call's listing
 * (sipalg_expect_calls()) names both.
 */
struct dlg_pinhole {
	u32 addr;		/* dlg_addr() of the expected destination */
	__be16 port;
	u8 proto;
};

/* The pinholes one side of a call asked for in one offer or answer. */
struct dlg_set {
	u8 n;
	struct dlg_pinhole ph[SIP_MAX_PINHOLES];
};

struct sipalg_dialog {
	struct hlist_node node;		/* in dlg_table[] */
	const struct nf_conn *ct;	/* identity only: never dereferenced */
	u32 ct_id;			/* nf_ct_get_id(ct) */
	const struct net *net;		/* identity only (namespace deletion) */
	unsigned int *net_count;	/* the namespace's dlg_net.count */
	struct sipalg_limit_src *src;	/* sipalg_limit.c: whose call, or NULL */
	u64 callid;			/* sipalg_dialog_id() of the Call-ID */
	unsigned long until;		/* jiffies: its pinholes have expired */
	bool confirmed;			/* a 2xx to its INVITE was seen */
	bool pending[IP_CT_DIR_MAX];	/* prev[] kept until settled */
	struct dlg_set cur[IP_CT_DIR_MAX];	/* each side's last SDP's */
	struct dlg_set prev[IP_CT_DIR_MAX];	/* with pending: the set before */
};

#define DLG_HASH_BITS		10
#define DLG_GC_INTERVAL		(10 * HZ)

/* Bucket by flow: a flow's records share one, bounded by max_flow_dialogs. */
static struct hlist_head dlg_table[1 << DLG_HASH_BITS];
static struct kmem_cache *dlg_cache;
static siphash_key_t dlg_key;
static unsigned int dlg_net_id;

struct dlg_net {
	unsigned int count;	/* records, under nf_conntrack_expect_lock */
};

static void dlg_gc_work(struct work_struct *work);
static DECLARE_DELAYED_WORK(dlg_gc, dlg_gc_work);

/* A keyed hash of the Call-ID: records never hold it, nor does anything log it. */
u64 sipalg_dialog_id(const u8 *buf, const struct sip_msg *msg)
{
	return siphash(buf + msg->call_id.off, msg->call_id.len, &dlg_key);
}

static u32 dlg_addr(const union nf_inet_addr *a)
{
	return jhash2(a->all, ARRAY_SIZE(a->all), 0);
}

static struct hlist_head *dlg_bucket(u32 ct_id)
{
	return &dlg_table[hash_32(ct_id, DLG_HASH_BITS)];
}

/* Under nf_conntrack_expect_lock. */
static void dlg_free(struct sipalg_dialog *d)
{
	hlist_del(&d->node);
	(*d->net_count)--;
	if (d->src)
		sipalg_limit_call_end(d->src);
	kmem_cache_free(dlg_cache, d);
}

/*
 * @ct's record of @callid, or NULL; @on_flow (unless NULL) gets the number
 * of @ct's records.  Expired records met on the way are freed.  Under
 * nf_conntrack_expect_lock.
 */
static struct sipalg_dialog *dlg_find(const struct nf_conn *ct, u32 ct_id,
				      u64 callid, unsigned int *on_flow)
{
	struct sipalg_dialog *d, *found = NULL;
	struct hlist_node *next;
	unsigned int n = 0;

	hlist_for_each_entry_safe(d, next, dlg_bucket(ct_id), node) {
		if (time_after(jiffies, d->until)) {
			dlg_free(d);
			continue;
		}
		if (d->ct != ct || d->ct_id != ct_id)
			continue;
		n++;
		if (d->callid == callid)
			found = d;
	}
	if (on_flow)
		*on_flow = n;
	return found;
}

/* Is @exp in set @s of side @side (NULL: no set)? */
static bool set_has(const struct dlg_set *s, unsigned int side,
		    const struct nf_conntrack_expect *exp)
{
	unsigned int i;
	u32 addr;

	if (!s || !s->n || exp->class != SIPALG_EXPECT_MEDIA ||
	    exp->dir == side)
		return false;
	addr = dlg_addr(&exp->tuple.dst.u3);
	for (i = 0; i < s->n; i++)
		if (s->ph[i].port == exp->tuple.dst.u.all &&
		    s->ph[i].proto == exp->tuple.dst.protonum &&
		    s->ph[i].addr == addr)
			return true;
	return false;
}

/* Is @exp one of the pinholes @d's side @side holds (current or kept)? */
static bool dlg_has(const struct sipalg_dialog *d, unsigned int side,
		    const struct nf_conntrack_expect *exp)
{
	return set_has(&d->cur[side], side, exp) ||
	       (d->pending[side] && set_has(&d->prev[side], side, exp));
}

/*
 * Does a record of flow @ct other than @d list @exp?  Calls on one flow
 * that announce the same media address share its pinholes (get_pinhole()).
 * Under nf_conntrack_expect_lock.
 */
static bool dlg_listed(const struct nf_conn *ct, u32 ct_id,
		       const struct sipalg_dialog *d,
		       const struct nf_conntrack_expect *exp)
{
	const struct sipalg_dialog *o;

	hlist_for_each_entry(o, dlg_bucket(ct_id), node)
		if (o != d && o->ct == ct && o->ct_id == ct_id &&
		    (dlg_has(o, 0, exp) || dlg_has(o, 1, exp)))
			return true;
	return false;
}

/*
 * Unlink the live pinholes of @d's side @side (both sides when < 0) that
 * are still on their flow's list and that no other call on the flow
 * shares; returns how many.  Under nf_conntrack_expect_lock.
 */
static unsigned int dlg_unlink(struct nf_conn_help *help,
			       const struct sipalg_dialog *d, int side)
{
	struct nf_conntrack_expect *exp;
	struct hlist_node *next;
	unsigned int removed = 0;

	hlist_for_each_entry_safe(exp, next, &help->expectations, lnode) {
		if (((side != 1 && dlg_has(d, 0, exp)) ||
		     (side != 0 && dlg_has(d, 1, exp))) &&
		    !dlg_listed(d->ct, d->ct_id, d, exp))
			removed += sipalg_exp_unlink(exp);
	}
	return removed;
}

/*
 * Unlink the live pinholes of side @side in set @gone of @d that set @kept
 * (NULL: none) has not and no other call on the flow shares; returns how
 * many.  Under nf_conntrack_expect_lock.
 */
static unsigned int dlg_drop(struct nf_conn_help *help,
			     const struct sipalg_dialog *d, unsigned int side,
			     const struct dlg_set *gone,
			     const struct dlg_set *kept)
{
	struct nf_conntrack_expect *exp;
	struct hlist_node *next;
	unsigned int removed = 0;

	hlist_for_each_entry_safe(exp, next, &help->expectations, lnode) {
		if (set_has(gone, side, exp) && !set_has(kept, side, exp) &&
		    !dlg_listed(d->ct, d->ct_id, d, exp))
			removed += sipalg_exp_unlink(exp);
	}
	return removed;
}

/*
 * Settle @d's offers in flight (see "Offers in flight"): @accepted (a 2xx)
 * keeps the new sets, else the previous ones are current again.  Returns
 * how many pinholes were removed.  Under nf_conntrack_expect_lock.
 */
static unsigned int dlg_settle(struct nf_conn_help *help,
			       struct sipalg_dialog *d, bool accepted)
{
	unsigned int side, removed = 0;

	for (side = 0; side < IP_CT_DIR_MAX; side++) {
		if (!d->pending[side])
			continue;
		if (accepted) {
			removed += dlg_drop(help, d, side, &d->prev[side],
					    &d->cur[side]);
		} else {
			removed += dlg_drop(help, d, side, &d->cur[side],
					    &d->prev[side]);
			d->cur[side] = d->prev[side];
		}
		d->pending[side] = false;
	}
	return removed;
}

/* A media pinhole's lifetime in seconds: created with it, renewed to it. */
static unsigned int media_secs(void)
{
	return sipalg_helpers[0].expect_policy[SIPALG_EXPECT_MEDIA].timeout;
}

/* The media pinholes' lifetime, from now. */
static unsigned long dlg_until(void)
{
	/* A second more: the core's deadline is taken slightly later. */
	return jiffies + (media_secs() + 1) * HZ;
}

/*
 * @ct's record of @callid, made if there is none and the caps allow.
 * ERR_PTR(-EDQUOT): a new call of a source (@src, sipalg_limit.c) at its
 * calls cap; ERR_PTR(-ENOSPC): over a cap on records, or no memory.  Under
 * nf_conntrack_expect_lock.
 */
static struct sipalg_dialog *dlg_get(struct nf_conn *ct, u32 ct_id,
				     u64 callid,
				     const struct sipalg_policy *pol,
				     struct sipalg_limit_src *src)
{
	struct net *net = nf_ct_net(ct);
	struct dlg_net *dn = net_generic(net, dlg_net_id);
	struct sipalg_dialog *d;
	unsigned int on_flow;

	d = dlg_find(ct, ct_id, callid, &on_flow);
	if (d)
		return d;
	if (on_flow >= READ_ONCE(max_flow_dialogs) ||
	    dn->count >= READ_ONCE(max_netns_dialogs))
		return ERR_PTR(-ENOSPC);
	if (!sipalg_limit_call_add(&src, pol))
		return ERR_PTR(-EDQUOT);
	d = kmem_cache_zalloc(dlg_cache, GFP_ATOMIC);
	if (!d) {
		if (src)
			sipalg_limit_call_end(src);
		return ERR_PTR(-ENOSPC);
	}
	d->ct = ct;
	d->ct_id = ct_id;
	d->net = net;
	d->net_count = &dn->count;
	d->src = src;
	d->callid = callid;
	d->until = dlg_until();
	dn->count++;
	hlist_add_head(&d->node, dlg_bucket(ct_id));
	return d;
}

/*
 * The end of a call (BYE; CANCEL or a final error to an INVITE not yet
 * answered with a 2xx): its pinholes, both sides', are removed and its
 * record freed.  Other calls on the flow keep theirs.  A CANCEL or final
 * error in a confirmed call fails a re-INVITE: its offer is withdrawn
 * (dlg_settle()).
 */
void sipalg_expect_end_dialog(struct nf_conn *ct,
			      const struct sipalg_policy *pol, u64 callid,
			      bool bye)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct sipalg_dialog *d;
	unsigned int removed = 0;

	if (!help)
		return;
	spin_lock_bh(&nf_conntrack_expect_lock);
	d = dlg_find(ct, nf_ct_get_id(ct), callid, NULL);
	if (d && (bye || !d->confirmed)) {
		removed = dlg_unlink(help, d, -1);
		dlg_free(d);
	} else if (d) {
		removed = dlg_settle(help, d, false);
	}
	spin_unlock_bh(&nf_conntrack_expect_lock);
	sipalg_policy_count_add(pol, SIPALG_CTR_EXPECT_REMOVED, removed);
}

/* A 2xx to an INVITE: the call is confirmed, an offer in flight accepted. */
void sipalg_expect_confirm_dialog(struct nf_conn *ct,
				  const struct sipalg_policy *pol, u64 callid)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct sipalg_dialog *d;
	unsigned int removed = 0;

	if (!help)
		return;
	spin_lock_bh(&nf_conntrack_expect_lock);
	d = dlg_find(ct, nf_ct_get_id(ct), callid, NULL);
	if (d) {
		d->confirmed = true;
		removed = dlg_settle(help, d, true);
	}
	spin_unlock_bh(&nf_conntrack_expect_lock);
	sipalg_policy_count_add(pol, SIPALG_CTR_EXPECT_REMOVED, removed);
}

/* Free the records of @net (every namespace's when NULL) or, with @expired, the expired ones. */
static void dlg_sweep(const struct net *net, bool expired)
{
	struct sipalg_dialog *d;
	struct hlist_node *next;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dlg_table); i++) {
		if (hlist_empty(&dlg_table[i]))
			continue;
		spin_lock_bh(&nf_conntrack_expect_lock);
		hlist_for_each_entry_safe(d, next, &dlg_table[i], node) {
			if (expired ? time_after(jiffies, d->until) :
			    (!net || d->net == net))
				dlg_free(d);
		}
		spin_unlock_bh(&nf_conntrack_expect_lock);
		cond_resched();
	}
}

static void dlg_gc_work(struct work_struct *work)
{
	dlg_sweep(NULL, true);
	queue_delayed_work(system_power_efficient_wq, &dlg_gc,
			   DLG_GC_INTERVAL);
}

/*
 * A namespace being deleted has no device left, so no packet creates a
 * record in it any more; its flows may outlive this (they are freed by the
 * conntrack core's own exit, later), but records never refer to them.
 */
static void __net_exit dlg_net_exit(struct net *net)
{
	dlg_sweep(net, false);
}

/* Does set @s name pinhole @ph? */
static bool set_lists(const struct dlg_set *s, const struct dlg_pinhole *ph)
{
	unsigned int k;

	for (k = 0; k < s->n; k++)
		if (s->ph[k].addr == ph->addr && s->ph[k].port == ph->port &&
		    s->ph[k].proto == ph->proto)
			return true;
	return false;
}

/*
 * Add the pinholes of set @s of side @side that @c has room for and set
 * @skip (NULL: none) does not list.
 */
static void call_add_set(struct sipalg_call *c, unsigned int side,
			 const struct dlg_set *s, const struct dlg_set *skip)
{
	const struct dlg_pinhole *ph;
	unsigned int k;

	for (k = 0; k < s->n && c->n < ARRAY_SIZE(c->pinhole); k++) {
		ph = &s->ph[k];
		if (!skip || !set_lists(skip, ph))
			c->pinhole[c->n++] =
				SIPALG_CALL_PINHOLE(side, ph->proto,
						    ntohs(ph->port));
	}
}

int sipalg_expect_calls(const struct net *net, unsigned long *bucket,
			unsigned long *skip,
			int (*fill)(const struct sipalg_call *c, void *arg),
			void *arg)
{
	struct sipalg_call *c = kmalloc(sizeof(*c), GFP_KERNEL);
	const struct sipalg_dialog *d;
	unsigned long b, i;
	unsigned int side;
	int err = 0;

	if (!c)
		return -ENOMEM;
	for (b = *bucket; b < ARRAY_SIZE(dlg_table) && !err; b++, *skip = 0) {
		i = 0;
		spin_lock_bh(&nf_conntrack_expect_lock);
		hlist_for_each_entry(d, &dlg_table[b], node) {
			if (d->net != net || time_after(jiffies, d->until) ||
			    i++ < *skip)
				continue;
			c->flow = d->ct_id;
			c->call = d->callid >> 32;
			c->n = 0;
			/* The current sets first: they always fit. */
			for (side = 0; side < IP_CT_DIR_MAX; side++)
				call_add_set(c, side, &d->cur[side], NULL);
			for (side = 0; side < IP_CT_DIR_MAX; side++)
				if (d->pending[side])
					call_add_set(c, side, &d->prev[side],
						     &d->cur[side]);
			err = fill(c, arg);
			if (err) {
				*skip = i - 1;
				break;
			}
		}
		spin_unlock_bh(&nf_conntrack_expect_lock);
		if (err)
			break;
	}
	*bucket = b;
	kfree(c);
	return err;
}

static struct pernet_operations dlg_net_ops = {
	.exit = dlg_net_exit,
	.id = &dlg_net_id,
	.size = sizeof(struct dlg_net),
};

static void nat_expected(struct nf_conn *ct, struct nf_conntrack_expect *exp)
{
	struct nf_nat_range2 range = {};

	/* Deliver to the private address:port that was announced. */
	range.flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED;
	range.min_addr = exp->saved_addr;
	range.max_addr = exp->saved_addr;
	range.min_proto = exp->saved_proto;
	range.max_proto = exp->saved_proto;
	nf_nat_setup_info(ct, &range, NF_NAT_MANIP_DST);
}

/*
 * Known by name to the conntrack core, so that ctnetlink can list an
 * expectation's function and conntrackd can recreate the expectation on
 * another router (CTA_EXPECT_FN "sipalg").
 */
static struct nf_ct_helper_expectfn nat_expectfn = {
	.name = SIPALG_HELPER_NAME,
	.expectfn = nat_expected,
};

int sipalg_expect_register(void)
{
	int ret;

	dlg_cache = KMEM_CACHE(sipalg_dialog, 0);
	if (!dlg_cache)
		return -ENOMEM;
	get_random_bytes(&dlg_key, sizeof(dlg_key));
	ret = register_pernet_subsys(&dlg_net_ops);
	if (ret) {
		kmem_cache_destroy(dlg_cache);
		return ret;
	}
	/* jiffies starts near its wrap: make the first recount due now. */
	last_recount = jiffies - SIPALG_RECOUNT_INTERVAL;
	nf_ct_helper_expectfn_register(&nat_expectfn);
	queue_delayed_work(system_power_efficient_wq, &dlg_gc,
			   DLG_GC_INTERVAL);
	return 0;
}

static bool helped_by_us(const struct nf_conn *ct)
{
	const struct nf_conn_help *help = nfct_help(ct);
	const struct nf_conntrack_helper *h;

	if (!help)
		return false;
	h = rcu_access_pointer(help->helper);
	return h && (h == &sipalg_helpers[0] || h == &sipalg_helpers[1]);
}

/* Detach sipalg from @ct (as the core's own unhelp() does). */
static int unhelp_ours(struct nf_conn *ct, void *data)
{
	if (helped_by_us(ct)) {
		nf_conntrack_event(IPCT_HELPER, ct);
		RCU_INIT_POINTER(nfct_help(ct)->helper, NULL);
	}
	return 0;
}

/* Does @exp point into this module (its function or one of its helpers)? */
static bool refers_to_us(struct nf_conntrack_expect *exp, void *data)
{
	return exp->expectfn == nat_expected ||
	       sipalg_exp_uses_helper(exp, &sipalg_helpers[0]) ||
	       sipalg_exp_uses_helper(exp, &sipalg_helpers[1]);
}

/*
 * After the helpers are unregistered.  nf_conntrack_helper_unregister()
 * removes the helper's expectations before it detaches the helper from its
 * flows, and until then those flows still run sipalg_help() and may open
 * new pinholes: these would outlive the module, with their expectfn and
 * helpers pointing into freed memory, and the next packet matching one, or
 * a listing of them, would touch it.  Now that no flow runs sipalg's code,
 * every expectation that still refers to the module is removed, as
 * nf_nat_sip does for its own on exit.  The function is unpublished first
 * (and readers that found it waited for), so that ctnetlink cannot create
 * a new one in between.  A registrar's pinhole hands sipalg's helper to
 * each flow it admits: one used after the core's detach walk and before
 * this sweep gave a new flow the helper, so the flows are walked once more
 * (nf_ct_iterate_destroy() first waits for packets in flight, which may
 * still be creating such a flow).
 */
void sipalg_expect_unregister(void)
{
	nf_ct_helper_expectfn_unregister(&nat_expectfn);
	synchronize_rcu();
	nf_ct_expect_iterate_destroy(refers_to_us, NULL);
	nf_ct_iterate_destroy(unhelp_ours, NULL);
	/* No flow runs sipalg_help() now: no record is made any more. */
	cancel_delayed_work_sync(&dlg_gc);
	unregister_pernet_subsys(&dlg_net_ops);	/* frees every record */
	kmem_cache_destroy(dlg_cache);
}

static bool is_ours(const struct nf_conntrack_expect *exp)
{
	return helped_by_us(exp->master);
}

static bool count_ours(struct nf_conntrack_expect *exp, void *data)
{
	if (is_ours(exp))
		(*(unsigned int *)data)++;
	return false;
}

/* Room for @need more pinholes under the module-wide cap? */
static bool under_global_cap(unsigned int need)
{
	unsigned int max = READ_ONCE(max_expectations), n = 0;
	unsigned long last = READ_ONCE(last_recount);

	if ((unsigned int)atomic_read(&live_bound) + need <= max)
		return true;
	/* One CPU recounts, and only once an interval has passed. */
	if (time_before(jiffies, last + SIPALG_RECOUNT_INTERVAL) ||
	    cmpxchg(&last_recount, last, jiffies) != last)
		return false;
	nf_ct_expect_iterate_destroy(count_ours, &n);
	atomic_set(&live_bound, n);
	return n + need <= max;
}

/*
 * The number of expectations in @net, every helper's.  The conntrack core
 * keeps it exactly (expect_count, under nf_conntrack_expect_lock), but that
 * lives in its per-namespace area, which modules cannot reach (its id,
 * nf_conntrack_net_id, is not exported on 6.1 or 6.12); and the core tells
 * a helper of no expectation that is unlinked (expired, used, flushed).
 * The core also counts, per CPU in the namespace's conntrack statistics
 * (net->ct.stat, /proc/net/stat/nf_conntrack), each expectation linked
 * (expect_create) and each unlinked (expect_delete), in the same places
 * and under the same lock as expect_count: their difference is that count.
 * Read without the lock it is exact up to the changes in flight, which can
 * make it briefly off by as many either way (a sum below zero reads as 0):
 * a pinhole or two at the cap, never a drift.  The cost is one read per
 * possible CPU, whatever the number of expectations: no table walk, no lock.
 */
static unsigned int netns_expectations(const struct net *net)
{
	unsigned int n = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct ip_conntrack_stat *st = per_cpu_ptr(net->ct.stat, cpu);

		n += READ_ONCE(st->expect_create) - READ_ONCE(st->expect_delete);
	}
	return (int)n < 0 ? 0 : n;
}

/*
 * Room for @need more pinholes in @ct's network namespace?  The count is
 * every helper's expectations there, an upper bound on sipalg's own: the
 * cap never lets a namespace hold more than it says.  (The kernel compares
 * the same count with net.netfilter.nf_conntrack_expect_max.)  Refusals
 * are counted per pinhole.
 */
static bool under_netns_cap(const struct nf_conn *ct,
			    const struct sipalg_policy *pol, unsigned int need)
{
	unsigned int n = netns_expectations(nf_ct_net(ct));

	if (n + need <= READ_ONCE(max_netns_expectations))
		return true;
	sipalg_policy_count_add(pol, SIPALG_CTR_EXPECT_REFUSED_NETNS_CAP, need);
	return false;
}

/*
 * Room for @need more pinholes for @ct?  The namespace's cap first: a
 * namespace at its cap never gets to the module-wide recount.
 */
static bool under_cap(const struct nf_conn *ct,
		      const struct sipalg_policy *pol, unsigned int need)
{
	return under_netns_cap(ct, pol, need) && under_global_cap(need);
}

/*
 * The live media pinholes of @help's flow of direction @dir (any when < 0).
 * Under nf_conntrack_expect_lock.
 */
static unsigned int count_media(struct nf_conn_help *help, int dir)
{
	struct nf_conntrack_expect *exp;
	unsigned int n = 0;

	hlist_for_each_entry(exp, &help->expectations, lnode)
		n += exp->class == SIPALG_EXPECT_MEDIA &&
		     (dir < 0 || exp->dir == dir) && !sipalg_exp_expired(exp);
	return n;
}

/*
 * Room for @need more media pinholes on @ct's flow?  The conntrack core
 * would make room by closing the flow's oldest pinhole, maybe another
 * call's; refusing the new one instead is predictable and counted.
 * help->expecting[] also counts pinholes that expired or were withdrawn
 * (marked dead) until the conntrack GC unlinks them, up to a minute later;
 * only live ones count, so when it is at the cap the flow's own list (at
 * most max_flow_pinholes live entries) is counted.  The core unlinks the
 * dead ones when it inserts the next.
 */
static bool under_flow_cap(struct nf_conn *ct, unsigned int need)
{
	struct nf_conn_help *help = nfct_help(ct);
	unsigned int max =
		sipalg_helpers[0].expect_policy[SIPALG_EXPECT_MEDIA].max_expected;
	unsigned int live;

	if (!help)
		return false;
	if (READ_ONCE(help->expecting[SIPALG_EXPECT_MEDIA]) + need <= max)
		return true;
	spin_lock_bh(&nf_conntrack_expect_lock);
	live = count_media(help, -1);
	spin_unlock_bh(&nf_conntrack_expect_lock);
	return live + need <= max;
}

struct pinhole_req {
	unsigned int class;
	u8 l4proto;
	enum ip_conntrack_dir dir;	/* direction the new flow arrives in */
	const union nf_inet_addr *src;	/* NULL: any source */
	union nf_inet_addr dst;
	__be16 dst_port;
	bool nat;
	union nf_inet_addr to;		/* with nat: where it is delivered */
	__be16 to_port;
	struct nf_conntrack_helper *assign; /* helper for the new flow */
	unsigned int flags;		/* NF_CT_EXPECT_* */
};

/*
 * Open one pinhole.  On success the expectation is returned with a
 * reference held (drop it with nf_ct_expect_put()), so that the caller can
 * still withdraw it.
 */
static struct nf_conntrack_expect *open_pinhole(struct nf_conn *ct,
						const struct sipalg_policy *pol,
						const struct pinhole_req *req)
{
	struct nf_conntrack_expect *exp;

	if (!under_cap(ct, pol, 1))
		return NULL;
	exp = nf_ct_expect_alloc(ct);
	if (!exp)
		return NULL;
	nf_ct_expect_init(exp, req->class, nf_ct_l3num(ct), req->src,
			  &req->dst, req->l4proto, NULL, &req->dst_port);
	exp->dir = req->dir;
	exp->flags = req->flags;
	if (req->nat) {
		exp->saved_addr = req->to;
		exp->saved_proto.all = req->to_port;
		exp->expectfn = nat_expected;
	}
	if (req->assign)
		sipalg_exp_assign_helper(exp, req->assign);
	if (nf_ct_expect_related(exp, 0)) {
		nf_ct_expect_put(exp);
		return NULL;
	}
	atomic_inc(&live_bound);
	sipalg_policy_count(pol, SIPALG_CTR_EXPECT_CREATED);
	return exp;
}

static void withdraw(struct nf_conn *ct, const struct sipalg_policy *pol,
		     struct nf_conntrack_expect *exp)
{
	nf_ct_unexpect_related(exp);
	nf_ct_expect_put(exp);
	sipalg_policy_count(pol, SIPALG_CTR_EXPECT_REMOVED);
}

/*
 * Remove @ct's expectations of @class (and of direction @dir unless < 0).
 * The master's own list is walked, not the whole expectation table.
 */
unsigned int sipalg_expect_remove(struct nf_conn *ct,
				  const struct sipalg_policy *pol,
				  enum sipalg_expect_class class, int dir)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp;
	struct hlist_node *next;
	unsigned int removed = 0;

	if (!help || !READ_ONCE(help->expecting[class]))
		return 0;
	spin_lock_bh(&nf_conntrack_expect_lock);
	hlist_for_each_entry_safe(exp, next, &help->expectations, lnode) {
		if (exp->class != class || (dir >= 0 && exp->dir != dir))
			continue;
		removed += sipalg_exp_unlink(exp);
	}
	spin_unlock_bh(&nf_conntrack_expect_lock);
	sipalg_policy_count_add(pol, SIPALG_CTR_EXPECT_REMOVED, removed);
	return removed;
}

/*
 * Make @req, the RTP pinhole of an m= line on public port @port, its RTCP
 * pinhole: on the next port up, or on the port a=rtcp set (@fixed).
 */
static void rtcp_of(struct pinhole_req *req, const struct sip_pinhole *rtcp,
		    bool fixed, u16 port)
{
	req->dst_port = htons(fixed ? rtcp->dst.port : port + 1);
	req->to_port = htons(rtcp->dst.port);
}

/* Does @exp lead where @req asks (NAT or not, and to the same place)? */
static bool same_target(const struct nf_conntrack_expect *exp,
			const struct pinhole_req *req)
{
	if ((exp->expectfn == nat_expected) != req->nat)
		return false;
	return !req->nat || (nf_inet_addr_cmp(&exp->saved_addr, &req->to) &&
			     exp->saved_proto.all == req->to_port);
}

/*
 * A media pinhole for @req on @ct's flow, with a reference held.  The
 * conntrack core would silently replace a flow's expectation that has the
 * same destination with the new one, taking it from the call that holds
 * it: so one there already, exactly as asked (several calls announcing
 * one media address, e.g. a media server's), is shared (@shared: renewed,
 * and the last call that lists it removes it), and one there for the same
 * public address and port that leads elsewhere means the port is taken
 * (NULL).  Otherwise a new one is opened.
 */
static struct nf_conntrack_expect *get_pinhole(struct nf_conn *ct,
					       const struct sipalg_policy *pol,
					       const struct pinhole_req *req,
					       bool *shared)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp, *found = NULL;
	bool taken = false;

	*shared = false;
	spin_lock_bh(&nf_conntrack_expect_lock);
	hlist_for_each_entry(exp, &help->expectations, lnode) {
		if (sipalg_exp_expired(exp) ||
		    exp->tuple.dst.protonum != req->l4proto ||
		    exp->tuple.dst.u.all != req->dst_port ||
		    !nf_inet_addr_cmp(&exp->tuple.dst.u3, &req->dst))
			continue;
		if (exp->class == req->class && exp->dir == req->dir &&
		    same_target(exp, req) &&
		    sipalg_exp_renew(exp, media_secs())) {
			refcount_inc(&exp->use);	/* it is linked: live */
			found = exp;
		} else {
			taken = true;
		}
		break;
	}
	spin_unlock_bh(&nf_conntrack_expect_lock);
	if (found) {
		*shared = true;
		sipalg_policy_count(pol, SIPALG_CTR_EXPECT_RENEWED);
		return found;
	}
	return taken ? NULL : open_pinhole(ct, pol, req);
}

/*
 * Open RTP (and RTCP, when @rtcp) for one m= line; returns the public RTP
 * port, 0 if no pinhole could be had.  With @remap the public port may
 * differ from the announced one (the planner rewrites m=).  An RTCP port
 * set by a=rtcp (@rtcp_fixed) cannot be rewritten, so it stays as is.
 */
static u16 open_media(struct nf_conn *ct, const struct sipalg_policy *pol,
		      struct pinhole_req *req,
		      const struct sip_pinhole *rtp,
		      const struct sip_pinhole *rtcp, bool rtcp_fixed,
		      bool remap, struct nf_conntrack_expect **got,
		      unsigned int *n_got)
{
	unsigned int tries = remap ? SIPALG_PORT_TRIES : 1;
	struct nf_conntrack_expect *rtp_exp, *rtcp_exp;
	struct pinhole_req rtcp_req;
	u32 port = rtp->dst.port;
	unsigned int need = rtcp ? 2 : 1;
	bool rtp_shared, rtcp_shared;

	/* Another port cannot help when a cap is the reason. */
	if (!under_cap(ct, pol, need) || !under_flow_cap(ct, need))
		tries = 0;
	for (; tries && port < 65535; tries--, port += 2) {
		req->dst_port = htons(port);
		req->to_port = htons(rtp->dst.port);
		rtp_exp = get_pinhole(ct, pol, req, &rtp_shared);
		if (!rtp_exp)
			continue;
		if (!rtcp) {
			got[(*n_got)++] = rtp_exp;
			return port;
		}
		rtcp_req = *req;
		rtcp_of(&rtcp_req, rtcp, rtcp_fixed, port);
		rtcp_exp = get_pinhole(ct, pol, &rtcp_req, &rtcp_shared);
		if (rtcp_exp || rtcp_fixed) {
			got[(*n_got)++] = rtp_exp;
			if (rtcp_exp)
				got[(*n_got)++] = rtcp_exp;
			return port;
		}
		if (rtp_shared)
			nf_ct_expect_put(rtp_exp);	/* another call's */
		else
			withdraw(ct, pol, rtp_exp);
	}
	sipalg_policy_count(pol, SIPALG_CTR_EXPECT_FAILED);
	return 0;
}

static const struct sip_pinhole *find_pinhole(const struct sip_plan *plan,
					      u8 media, u8 kind)
{
	unsigned int i;

	for (i = 0; i < plan->n_pinholes; i++)
		if (plan->pinhole[i].media == media &&
		    plan->pinhole[i].kind == kind)
			return &plan->pinhole[i];
	return NULL;
}

static bool addr_is_zero(const struct sip_addr *a)
{
	static const u8 zero[16];

	return !memcmp(a->ip, zero, a->family == 4 ? 4 : 16);
}

/*
 * A pinhole leads only to the side that sent the SDP: to its address in
 * the conntrack tuple (tuple[dir].src, before NAT), which for a translated
 * sender is its internal address.  A c= naming anything else, the router
 * itself, another LAN host or a third party, would let a peer steer
 * traffic from anywhere to an address of its choice: it opens nothing.
 */
static bool sent_by_announcer(const struct nf_conn *ct,
			      enum ip_conntrack_dir dir,
			      const struct sip_pinhole *rtp)
{
	struct sip_addr sender;

	sipalg_inet_to_addr(&ct->tuplehash[dir].tuple.src.u3, nf_ct_l3num(ct),
			    &sender);
	return sip_addr_equal(&rtp->dst.addr, &sender);
}

/*
 * What the RTP pinhole @rtp asks for, in @req (media arrives in the
 * direction opposite to the message).  Returns whether its public port may
 * differ from the announced one (the planner then rewrites m=).  The
 * caller has checked sent_by_announcer().
 */
static bool media_req(const struct sip_msg *msg, enum ip_conntrack_dir dir,
		      const struct sip_pinhole *rtp,
		      const struct sip_xlat *xlat, struct pinhole_req *req)
{
	const struct sip_media *m = &msg->media[rtp->media];

	memset(req, 0, sizeof(*req));
	req->class = SIPALG_EXPECT_MEDIA;
	req->l4proto = rtp->l4proto;
	req->dir = !dir;
	req->dst_port = htons(rtp->dst.port);
	req->to_port = req->dst_port;
	if (!xlat || xlat->side != SIP_SENDER_NATED) {
		sipalg_addr_to_inet(&rtp->dst.addr, &req->dst);
		return false;
	}
	sipalg_addr_to_inet(&xlat->external.addr, &req->dst);
	sipalg_addr_to_inet(&rtp->dst.addr, &req->to);
	req->nat = true;
	return xlat->mode == SIP_MODE_REWRITE && !msg->sdp[m->part].has_ice;
}

/*
 * The pinhole of dialog @d's side @side on @help's conntrack that is
 * already what @req asks for (on any public port when @remap), or NULL.
 * Under nf_conntrack_expect_lock.
 */
static struct nf_conntrack_expect *find_same(struct nf_conn_help *help,
					     const struct sipalg_dialog *d,
					     unsigned int side,
					     const struct pinhole_req *req,
					     bool remap)
{
	struct nf_conntrack_expect *exp;

	hlist_for_each_entry(exp, &help->expectations, lnode) {
		if (sipalg_exp_expired(exp) ||
		    !set_has(&d->cur[side], side, exp) ||
		    exp->class != req->class || exp->dir != req->dir ||
		    exp->tuple.dst.protonum != req->l4proto ||
		    !nf_inet_addr_cmp(&exp->tuple.dst.u3, &req->dst) ||
		    (exp->expectfn == nat_expected) != req->nat)
			continue;
		if (!remap && exp->tuple.dst.u.all != req->dst_port)
			continue;
		if (req->nat &&
		    (!nf_inet_addr_cmp(&exp->saved_addr, &req->to) ||
		     exp->saved_proto.all != req->to_port))
			continue;
		return exp;
	}
	return NULL;
}

/* Adds the public port of a remapped m= line to @map. */
static void map_port(struct sip_port_map *map, unsigned int *n, u16 announced,
		     u16 port)
{
	if (port == announced || *n >= SIP_MAX_MEDIA)
		return;
	map[*n].old_port = announced;
	map[*n].new_port = port;
	(*n)++;
}

/*
 * Find the open pinholes of every m= line the message asks for; false if
 * one is missing.  Under nf_conntrack_expect_lock.
 */
static bool find_media(const struct nf_conn *ct, struct nf_conn_help *help,
		       const struct sipalg_dialog *d, enum ip_conntrack_dir dir,
		       const struct sip_msg *msg, const struct sip_plan *plan,
		       const struct sip_xlat *xlat,
		       struct nf_conntrack_expect **found, unsigned int *n_found,
		       struct sip_port_map *map, unsigned int *n_map)
{
	unsigned int i;

	for (i = 0; i < plan->n_pinholes; i++) {
		const struct sip_pinhole *rtp = &plan->pinhole[i], *rtcp;
		struct pinhole_req req;
		bool remap;
		u16 port;

		if (rtp->kind != SIP_PINHOLE_RTP ||
		    addr_is_zero(&rtp->dst.addr) ||
		    !sent_by_announcer(ct, dir, rtp))
			continue;
		remap = media_req(msg, dir, rtp, xlat, &req);
		found[*n_found] = find_same(help, d, dir, &req, remap);
		if (!found[*n_found])
			return false;
		port = ntohs(found[(*n_found)++]->tuple.dst.u.all);
		rtcp = find_pinhole(plan, rtp->media, SIP_PINHOLE_RTCP);
		if (rtcp) {
			rtcp_of(&req, rtcp, msg->media[rtp->media].rtcp_port,
				port);
			found[*n_found] = find_same(help, d, dir, &req, false);
			if (!found[(*n_found)++])
				return false;
		}
		if (remap)
			map_port(map, n_map, rtp->dst.port, port);
	}
	return true;
}

/*
 * The live pinholes of @d's side @side's current set.  Under
 * nf_conntrack_expect_lock.
 */
static unsigned int dlg_count_live(struct nf_conn_help *help,
				   const struct sipalg_dialog *d,
				   unsigned int side)
{
	struct nf_conntrack_expect *exp;
	unsigned int n = 0;

	hlist_for_each_entry(exp, &help->expectations, lnode)
		n += set_has(&d->cur[side], side, exp) &&
		     !sipalg_exp_expired(exp);
	return n;
}

/*
 * A retransmitted INVITE, or a session refresh re-offering the same media,
 * finds every pinhole it asks for open already as side @dir of record @d,
 * and no other: their timeouts are renewed and they keep their public
 * ports, instead of being removed and re-created.  Returns how many were
 * renewed; 0, having renewed nothing, when the set differs.  Under
 * nf_conntrack_expect_lock.
 */
static unsigned int renew_media(const struct nf_conn *ct,
				struct nf_conn_help *help,
				struct sipalg_dialog *d,
				enum ip_conntrack_dir dir,
				const struct sip_msg *msg,
				const struct sip_plan *plan,
				const struct sip_xlat *xlat,
				struct sip_port_map *map, unsigned int *n_map)
{
	struct nf_conntrack_expect *found[SIP_MAX_PINHOLES];
	unsigned int i, n = 0;

	if (!d->cur[dir].n ||
	    !find_media(ct, help, d, dir, msg, plan, xlat, found, &n, map,
			n_map) ||
	    !n || dlg_count_live(help, d, dir) != n)
		return 0;
	for (i = 0; i < n; i++)
		sipalg_exp_renew(found[i], media_secs());
	d->until = dlg_until();
	return n;
}

/*
 * Is @msg part of an INVITE transaction not yet settled: the INVITE or a
 * provisional response to it?  Its SDP may still be withdrawn.
 */
static bool in_flight(const struct sip_msg *msg)
{
	if (msg->is_request)
		return msg->method == SIP_M_INVITE;
	return msg->cseq_method == SIP_M_INVITE && msg->status < 200;
}

/*
 * Make room in @d for side @dir's new set, @msg's.  In a confirmed call an
 * INVITE transaction in flight keeps the side's set as prev (a second
 * offer meanwhile drops only what the first added); else the side's
 * pinholes, prev included, are removed.  Returns how many were removed.
 * Under nf_conntrack_expect_lock.
 */
static unsigned int dlg_replace(struct nf_conn_help *help,
				struct sipalg_dialog *d, unsigned int dir,
				const struct sip_msg *msg)
{
	unsigned int removed = 0;

	if (d->confirmed && in_flight(msg)) {
		if (d->pending[dir])
			removed = dlg_drop(help, d, dir, &d->cur[dir],
					   &d->prev[dir]);
		else
			d->prev[dir] = d->cur[dir];
		d->pending[dir] = true;
	} else {
		removed = dlg_unlink(help, d, dir);
		d->pending[dir] = false;
	}
	d->cur[dir].n = 0;
	return removed;
}

/*
 * Ready call @callid's record for an offer or answer from side @dir, in
 * one hold of the lock: the record is found, or made (dlg_get(): a new
 * call).  When the message asks for the pinholes that side has already,
 * they are renewed: returns 1, *@n_map m= ports remapped in @map.  Else
 * room is made for the message's (dlg_replace()): returns 0.  Or the
 * negative error of dlg_get().
 */
static int dlg_prepare(struct nf_conn *ct, const struct sipalg_policy *pol,
		       u32 ct_id, u64 callid, enum ip_conntrack_dir dir,
		       const struct sip_msg *msg, const struct sip_plan *plan,
		       const struct sip_xlat *xlat,
		       struct sipalg_limit_src *src,
		       struct sip_port_map *map, unsigned int *n_map)
{
	struct nf_conn_help *help = nfct_help(ct);
	unsigned int renewed = 0, removed = 0;
	struct sipalg_dialog *d;
	int ret = 0;

	*n_map = 0;
	spin_lock_bh(&nf_conntrack_expect_lock);
	d = dlg_get(ct, ct_id, callid, pol, src);
	if (IS_ERR(d)) {
		ret = PTR_ERR(d);
	} else {
		renewed = renew_media(ct, help, d, dir, msg, plan, xlat, map,
				      n_map);
		if (!renewed) {
			removed = dlg_replace(help, d, dir, msg);
			*n_map = 0;
		}
	}
	spin_unlock_bh(&nf_conntrack_expect_lock);
	sipalg_policy_count_add(pol, SIPALG_CTR_EXPECT_RENEWED, renewed);
	sipalg_policy_count_add(pol, SIPALG_CTR_EXPECT_REMOVED, removed);
	return ret ? ret : renewed != 0;
}

/* Does @d name no pinhole? */
static bool dlg_empty(const struct sipalg_dialog *d)
{
	unsigned int side;

	for (side = 0; side < IP_CT_DIR_MAX; side++)
		if (d->cur[side].n || (d->pending[side] && d->prev[side].n))
			return false;
	return true;
}

/*
 * Record the pinholes @got that side @dir of call @callid just opened or
 * shares, and drop the references get_pinhole() gave.  If the call ended
 * meanwhile (its BYE on the other direction, on another CPU), those that
 * are still on the flow's list and no other call's are removed.  A record
 * that names no pinhole (no current set, none kept) is freed.
 */
static void dlg_commit(struct nf_conn *ct, const struct sipalg_policy *pol,
		       u32 ct_id, u64 callid,
		       enum ip_conntrack_dir dir,
		       struct nf_conntrack_expect **got, unsigned int n_got)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp;
	struct hlist_node *next;
	struct sipalg_dialog *d;
	unsigned int i, removed = 0;

	spin_lock_bh(&nf_conntrack_expect_lock);
	d = dlg_find(ct, ct_id, callid, NULL);
	if (!d) {
		/* Those still on the list and no other call's. */
		hlist_for_each_entry_safe(exp, next, &help->expectations, lnode)
			for (i = 0; i < n_got; i++)
				if (got[i] == exp &&
				    !dlg_listed(ct, ct_id, NULL, exp)) {
					removed += sipalg_exp_unlink(exp);
					break;
				}
	} else {
		for (i = 0; i < n_got; i++) {
			const struct nf_conntrack_tuple *t = &got[i]->tuple;
			struct dlg_pinhole *ph = &d->cur[dir].ph[i];

			ph->addr = dlg_addr(&t->dst.u3);
			ph->port = t->dst.u.all;
			ph->proto = t->dst.protonum;
		}
		d->cur[dir].n = n_got;
		d->until = dlg_until();
		if (dlg_empty(d))
			dlg_free(d);
	}
	spin_unlock_bh(&nf_conntrack_expect_lock);
	for (i = 0; i < n_got; i++)
		nf_ct_expect_put(got[i]);
	sipalg_policy_count_add(pol, SIPALG_CTR_EXPECT_REMOVED, removed);
}

/*
 * Open the media pinholes a message's SDP asks for, replacing those the same
 * side of the same call (@callid: sipalg_dialog_id()) asked for before
 * (re-INVITE, hold; a confirmed call's re-INVITE only once it is accepted,
 * dlg_replace()); other calls on the flow keep theirs.  Fills @map with
 * the public port of each m= line whose port was remapped and returns the
 * number of entries.  A new call's record names @src (sipalg_limit.c);
 * -EDQUOT when that source is at its calls cap: the call gets nothing.
 */
int sipalg_expect_media(struct nf_conn *ct, const struct sipalg_policy *pol,
			enum ip_conntrack_dir dir, const struct sip_msg *msg,
			const struct sip_plan *plan, const struct sip_xlat *xlat,
			struct sip_port_map *map, u64 callid,
			struct sipalg_limit_src *src)
{
	struct nf_conntrack_expect *got[SIP_MAX_PINHOLES];
	unsigned int i, n = 0, n_got = 0;
	u32 ct_id;
	int ret;

	if (!nfct_help(ct))
		return 0;
	ct_id = nf_ct_get_id(ct);
	ret = dlg_prepare(ct, pol, ct_id, callid, dir, msg, plan, xlat, src,
			  map, &n);
	if (ret > 0)
		return n;		/* renewed */
	if (ret == -ENOSPC) {
		sipalg_policy_count(pol, SIPALG_CTR_EXPECT_FAILED);
		return 0;
	}
	if (ret)
		return ret;
	for (i = 0; i < plan->n_pinholes; i++) {
		const struct sip_pinhole *rtp = &plan->pinhole[i];
		const struct sip_media *m = &msg->media[rtp->media];
		struct pinhole_req req;
		bool remap;
		u16 port;

		if (rtp->kind != SIP_PINHOLE_RTP || addr_is_zero(&rtp->dst.addr))
			continue;
		if (!sent_by_announcer(ct, dir, rtp)) {
			sipalg_policy_count(pol,
					    SIPALG_CTR_EXPECT_REFUSED_DESTINATION);
			continue;
		}
		/* RTP and RTCP are two pinholes of the plan: never true. */
		if (n_got + 2 > ARRAY_SIZE(got))
			break;
		remap = media_req(msg, dir, rtp, xlat, &req);
		port = open_media(ct, pol, &req, rtp,
				  find_pinhole(plan, rtp->media, SIP_PINHOLE_RTCP),
				  m->rtcp_port != 0, remap, got, &n_got);
		if (port && remap)
			map_port(map, &n, rtp->dst.port, port);
	}
	dlg_commit(ct, pol, ct_id, callid, dir, got, n_got);
	return n;
}

/*
 * Let the registrar (@dir's sender) reach the registered Contact @contact
 * (as the registrar knows it) with new flows, e.g. INVITEs from other
 * ports, for the registration's lifetime @secs: the pinhole is permanent
 * (every new flow from the registrar uses it, not only the first) and is
 * opened again, for the lifetime granted then, by each accepted REGISTER.
 * The new flows are helped by sipalg too.  A pinhole refused (a cap, the
 * table) is counted as expectations-failed; the REGISTER still passes.
 */
void sipalg_expect_signalling(struct nf_conn *ct,
			      const struct sipalg_policy *pol,
			      enum ip_conntrack_dir dir,
			      const struct sip_endpoint *contact,
			      const struct sip_xlat *xlat, unsigned int secs)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp;
	struct pinhole_req req = {
		.class = SIPALG_EXPECT_SIGNALLING,
		.l4proto = nf_ct_protonum(ct),
		.dir = dir,
		.src = &ct->tuplehash[dir].tuple.src.u3,
		.dst_port = htons(contact->port),
		.flags = NF_CT_EXPECT_PERMANENT,
	};

	sipalg_addr_to_inet(&contact->addr, &req.dst);
	if (xlat && sip_addr_equal(&contact->addr, &xlat->external.addr) &&
	    contact->port == xlat->external.port) {
		req.nat = true;
		sipalg_addr_to_inet(&xlat->internal.addr, &req.to);
		req.to_port = htons(xlat->internal.port);
	}
	req.assign = rcu_dereference(help->helper);
	sipalg_expect_remove(ct, pol, SIPALG_EXPECT_SIGNALLING, -1);
	exp = open_pinhole(ct, pol, &req);
	if (!exp) {
		sipalg_policy_count(pol, SIPALG_CTR_EXPECT_FAILED);
		return;
	}
	/* The policy's timeout is only the initial one. */
	spin_lock_bh(&nf_conntrack_expect_lock);
	sipalg_exp_renew(exp, secs);
	spin_unlock_bh(&nf_conntrack_expect_lock);
	nf_ct_expect_put(exp);
}
