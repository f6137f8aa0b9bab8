// SPDX-License-Identifier: GPL-2.0
/*
 * Per-interface assignment: a SIP flow gets the sipalg helper when its
 * first packet enters or leaves through an interface on which sipalg is
 * enabled; the table of configured interfaces, per network namespace,
 * follows the interfaces (an entry dies with its interface); a flush
 * detaches the helper and the pinholes of the flows an interface assigned.
 *
 * Where the helper is attached, and why (Linux 6.1):
 *
 * - The helper must be on the conntrack before NAT is set up for it:
 *   nf_nat_setup_info() adds the sequence-adjustment extension a TCP
 *   rewrite needs only when the conntrack already has a helper.  It must
 *   also be there before the conntrack is confirmed: extensions cannot be
 *   added to a confirmed one.
 * - Entering: PRE_ROUTING, after conntrack (NF_IP_PRI_CONNTRACK) and just
 *   before destination NAT (NF_IP_PRI_NAT_DST); nftables rules at mangle
 *   priority still come first, so an explicit `ct helper` wins.
 * - Leaving: POST_ROUTING just before source NAT (NF_IP_PRI_NAT_SRC), which
 *   covers forwarded and locally generated flows.
 * - Destination NAT may have been set up before the leaving hook, without
 *   the helper: a port forward (PRE_ROUTING or LOCAL_OUT) of a flow that
 *   sipalg assigns only on the interface it leaves by.  (Any nat chain,
 *   whatever its priority, runs inside the NAT core's hook, so the entering
 *   hook always comes first.)  So every TCP flow assigned gets the sequence
 *   adjustment here, whichever hook assigns it.
 * - Only a conntrack that is new and unconfirmed (the flow's first packet),
 *   UDP or TCP with a port of ports= on either side, and without a helper
 *   is assigned.  IPS_HELPER is set as nftables does, so that no later
 *   `ct helper` rule replaces it.
 *
 * The packet path reads the table under RCU (the hooks run inside it);
 * flows on interfaces without an entry pay a port test and one hash lookup,
 * and nothing at all while no interface of the namespace is enabled.
 */
#include <linux/hash.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <net/netfilter/nf_conntrack_ecache.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <net/netfilter/nf_conntrack_seqadj.h>

#include "sipalg_ctl.h"

static struct hlist_head *bucket(struct sipalg_net *sn, int ifindex)
{
	return &sn->ifaces[hash_32(ifindex, SIPALG_IFACE_HASH_BITS)];
}

/* Under RCU or RTNL. */
struct sipalg_iface *sipalg_iface_find(struct sipalg_net *sn, int ifindex)
{
	struct sipalg_iface *iface;

	hlist_for_each_entry_rcu(iface, bucket(sn, ifindex), node,
				 lockdep_rtnl_is_held())
		if (iface->ifindex == ifindex)
			return iface;
	return NULL;
}

static bool is_sipalg(const struct nf_conntrack_helper *h)
{
	return h && (h == &sipalg_helpers[0] || h == &sipalg_helpers[1]);
}

/*
 * The ct data that records which interface assigned @ct (whose helper is
 * sipalg's, or was until a flush): its own, or for a flow a pinhole let in
 * (the registrar's new signalling flow), its master's.  NULL for a flow
 * nftables assigned.
 */
const struct sipalg_ct_data *sipalg_ct_assigner(const struct nf_conn *ct)
{
	const struct nf_conn *master = ct->master;
	const struct sipalg_ct_data *d;
	const struct nf_conn_help *help;

	if (!nfct_help(ct))
		return NULL;
	d = sipalg_ct_data(ct);
	if (d->ifindex)
		return d;
	help = master ? nfct_help(master) : NULL;
	if (!help)
		return NULL;
	d = sipalg_ct_data(master);
	if (!is_sipalg(rcu_access_pointer(help->helper)) &&
	    d->flushed != SIPALG_CT_FLUSHED)
		return NULL;	/* the master's data is another helper's */
	return d->ifindex ? d : NULL;
}

int sipalg_ct_ifindex(const struct nf_conn *ct)
{
	const struct sipalg_ct_data *d = sipalg_ct_assigner(ct);

	return d ? d->ifindex : 0;
}

/* ------------------------------------------------------------ assignment */

static bool is_sip_port(__be16 port)
{
	u16 p = ntohs(port);
	unsigned int i;

	for (i = 0; i < sipalg_nports; i++)
		if (sipalg_ports[i] == p)
			return true;
	return false;
}

static void assign(struct nf_conn *ct, u8 l4proto, int ifindex,
		   union sipalg_iface_cfg cfg)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct sipalg_ct_data *d;

	if (test_bit(IPS_HELPER_BIT, &ct->status))
		return;
	if (help && rcu_access_pointer(help->helper))
		return;
	if (!help && !nf_ct_helper_ext_add(ct, GFP_ATOMIC))
		return;
	if (l4proto == IPPROTO_TCP && !nfct_seqadj(ct) &&
	    !nfct_seqadj_ext_add(ct))
		return;
	/* Adding an extension may have moved the others. */
	help = nfct_help(ct);
	d = sipalg_ct_data(ct);
	memset(d, 0, sizeof(*d));
	d->ifindex = ifindex;
	d->mode = cfg.mode;
	d->malformed = cfg.malformed;
	rcu_assign_pointer(help->helper,
			   &sipalg_helpers[l4proto == IPPROTO_UDP ? 0 : 1]);
	set_bit(IPS_HELPER_BIT, &ct->status);
}

static unsigned int sipalg_assign_hook(void *priv, struct sk_buff *skb,
				       const struct nf_hook_state *state)
{
	bool leaving = state->hook == NF_INET_POST_ROUTING;
	const struct nf_conntrack_tuple *t;
	const struct net_device *dev;
	enum ip_conntrack_info ctinfo;
	struct sipalg_iface *iface;
	union sipalg_iface_cfg cfg;
	struct sipalg_net *sn;
	struct nf_conn *ct;
	u8 l4proto;

	ct = nf_ct_get(skb, &ctinfo);
	if (!ct || ctinfo != IP_CT_NEW || nf_ct_is_confirmed(ct) ||
	    nf_ct_is_template(ct))
		return NF_ACCEPT;
	sn = sipalg_pernet(state->net);
	if (!READ_ONCE(sn->n_enabled))
		return NF_ACCEPT;
	t = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	l4proto = t->dst.protonum;
	if (l4proto != IPPROTO_UDP && l4proto != IPPROTO_TCP)
		return NF_ACCEPT;
	if (!is_sip_port(t->dst.u.all) && !is_sip_port(t->src.u.all))
		return NF_ACCEPT;
	dev = leaving ? state->out : state->in;
	if (!dev)
		return NF_ACCEPT;
	iface = sipalg_iface_find(sn, dev->ifindex);
	if (!iface)
		return NF_ACCEPT;
	cfg.word = READ_ONCE(iface->cfg.word);
	if (cfg.enabled)
		assign(ct, l4proto, dev->ifindex, cfg);
	return NF_ACCEPT;
}

static const struct nf_hook_ops sipalg_hook_ops[] = {
	{
		.hook		= sipalg_assign_hook,
		.pf		= NFPROTO_INET,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= NF_IP_PRI_NAT_DST - 1,
	},
	{
		.hook		= sipalg_assign_hook,
		.pf		= NFPROTO_INET,
		.hooknum	= NF_INET_POST_ROUTING,
		.priority	= NF_IP_PRI_NAT_SRC - 1,
	},
};

static int __net_init sipalg_hooks_init(struct net *net)
{
	return nf_register_net_hooks(net, sipalg_hook_ops,
				     ARRAY_SIZE(sipalg_hook_ops));
}

static void ifaces_free(struct sipalg_net *sn);

/*
 * The namespace is going away (its devices, and with them the entries of
 * its table, are gone: devices are unregistered before subsystems exit),
 * or the module is (the netdevice notifier's removal emptied the tables).
 * The table is emptied anyway in case an entry is left.
 */
static void __net_exit sipalg_hooks_exit(struct net *net)
{
	nf_unregister_net_hooks(net, sipalg_hook_ops,
				ARRAY_SIZE(sipalg_hook_ops));
	ifaces_free(sipalg_pernet(net));
	sipalg_untrack(net);
}

/*
 * Separate from the namespace state (sipalg_net.c): registered after the
 * helpers and gone before them, so that nothing assigns a helper that is
 * not registered.  Registered after the namespace state, so its exit runs
 * before that state is freed.
 */
static struct pernet_operations sipalg_hooks_net_ops = {
	.init = sipalg_hooks_init,
	.exit = sipalg_hooks_exit,
};

/*
 * Conntrack runs in a namespace only while something there asks for it;
 * an enabled interface does.  Called from the netlink handlers, which the
 * genetlink core serialises; dropped when the namespace goes.
 */
int sipalg_track(struct net *net)
{
	struct sipalg_net *sn = sipalg_pernet(net);
	int err;

	if (sn->tracking)
		return 0;
	err = nf_ct_netns_get(net, NFPROTO_INET);
	if (err)
		return err;
	sn->tracking = true;
	return 0;
}

void sipalg_untrack(struct net *net)
{
	struct sipalg_net *sn = sipalg_pernet(net);

	if (sn->tracking)
		nf_ct_netns_put(net, NFPROTO_INET);
	sn->tracking = false;
}

/* ----------------------------------------------------------------- table */

static void iface_free_rcu(struct rcu_head *head)
{
	struct sipalg_iface *iface = container_of(head, struct sipalg_iface,
						  rcu);

	sipalg_counters_free(&iface->ctrs);
	kfree(iface);
}

static void iface_unlink(struct sipalg_net *sn, struct sipalg_iface *iface)
{
	hlist_del_rcu(&iface->node);
	sn->n_ifaces--;
	if (iface->cfg.enabled)
		WRITE_ONCE(sn->n_enabled, sn->n_enabled - 1);
	call_rcu(&iface->rcu, iface_free_rcu);
}

/* A limit given (not SIPALG_LIMIT_INHERIT); the packet path reads it locklessly. */
static void set_limit(u32 *limit, u32 val)
{
	if (val != SIPALG_LIMIT_INHERIT)
		WRITE_ONCE(*limit, val);
}

/*
 * Configure @ifindex: the fields of @set whose byte in @mask is non-zero,
 * and the limits of @lim that are not SIPALG_LIMIT_INHERIT.
 * Everything is checked before anything changes.  RTNL held.
 */
int sipalg_iface_set(struct net *net, int ifindex,
		     const union sipalg_iface_cfg *set,
		     const union sipalg_iface_cfg *mask,
		     const struct sipalg_limits *lim,
		     struct netlink_ext_ack *extack)
{
	struct sipalg_net *sn = sipalg_pernet(net);
	struct sipalg_iface *iface;
	union sipalg_iface_cfg cfg;
	bool was_enabled = false;

	ASSERT_RTNL();
	if (ifindex <= 0 || !__dev_get_by_index(net, ifindex)) {
		NL_SET_ERR_MSG(extack,
			       "no interface with this ifindex in the network namespace");
		return -ENODEV;
	}
	iface = sipalg_iface_find(sn, ifindex);
	if (iface) {
		cfg = iface->cfg;
		was_enabled = cfg.enabled;
	} else {
		if (sn->n_ifaces >= SIPALG_MAX_IFACES) {
			NL_SET_ERR_MSG(extack,
				       "too many interfaces: sipalg is configured on 256 in this network namespace already");
			return -ENOSPC;
		}
		iface = kzalloc(sizeof(*iface), GFP_KERNEL);
		if (!iface)
			return -ENOMEM;
		if (sipalg_counters_init(&iface->ctrs)) {
			kfree(iface);
			return -ENOMEM;
		}
		iface->ifindex = ifindex;
		iface->lim = (struct sipalg_limits){ SIPALG_LIMIT_INHERIT,
			SIPALG_LIMIT_INHERIT, SIPALG_LIMIT_INHERIT };
		cfg.word = 0;
		cfg.enabled = 1;
		cfg.mode = SIPALG_MODE_REWRITE;
		cfg.malformed = SIPALG_MALFORMED_ACTION_PASS;
	}
	if (mask->enabled)
		cfg.enabled = !!set->enabled;
	if (mask->mode)
		cfg.mode = set->mode;
	if (mask->malformed)
		cfg.malformed = set->malformed;
	if (mask->over_limit)
		cfg.over_limit = set->over_limit;
	set_limit(&iface->lim.rate, lim->rate);
	set_limit(&iface->lim.burst, lim->burst);
	set_limit(&iface->lim.calls, lim->calls);

	if (cfg.enabled && !was_enabled)
		WRITE_ONCE(sn->n_enabled, sn->n_enabled + 1);
	else if (!cfg.enabled && was_enabled)
		WRITE_ONCE(sn->n_enabled, sn->n_enabled - 1);
	WRITE_ONCE(iface->cfg.word, cfg.word);
	if (hlist_unhashed(&iface->node)) {
		hlist_add_head_rcu(&iface->node, bucket(sn, ifindex));
		sn->n_ifaces++;
	}
	return 0;
}

/* Forget @ifindex; -ENOENT if it was not configured.  RTNL held. */
int sipalg_iface_del(struct net *net, int ifindex)
{
	struct sipalg_net *sn = sipalg_pernet(net);
	struct sipalg_iface *iface;

	ASSERT_RTNL();
	iface = sipalg_iface_find(sn, ifindex);
	if (!iface)
		return -ENOENT;
	iface_unlink(sn, iface);
	return 0;
}

/* Readers may still hold an entry: they are freed after a grace period. */
static void ifaces_free(struct sipalg_net *sn)
{
	struct sipalg_iface *iface;
	struct hlist_node *tmp;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sn->ifaces); i++)
		hlist_for_each_entry_safe(iface, tmp, &sn->ifaces[i], node)
			iface_unlink(sn, iface);
}

static int sipalg_netdev_event(struct notifier_block *nb, unsigned long event,
			       void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	/* Also sent when the device moves to another namespace. */
	if (event == NETDEV_UNREGISTER)
		sipalg_iface_del(dev_net(dev), dev->ifindex);
	return NOTIFY_DONE;
}

static struct notifier_block sipalg_netdev_nb = {
	.notifier_call = sipalg_netdev_event,
};

/* ----------------------------------------------------------------- flush */

struct flush_req {
	int ifindex;
	unsigned int flows;
	unsigned int expectations;
};

/*
 * Detach the helper from a flow @req's interface assigned, as
 * nf_conntrack_helper_unregister() does, and remove its pinholes.  Called
 * under the conntrack's hash bucket lock; the expectation lock nests inside
 * it as it does in the conntrack core (clean_from_lists()).
 */
static int flush_flow(struct nf_conn *ct, void *data)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct flush_req *req = data;
	unsigned int i, n = 0;

	if (!help || !is_sipalg(rcu_dereference_raw(help->helper)) ||
	    sipalg_ct_ifindex(ct) != req->ifindex)
		return 0;
	sipalg_ct_data(ct)->flushed = SIPALG_CT_FLUSHED;
	RCU_INIT_POINTER(help->helper, NULL);
	nf_conntrack_event(IPCT_HELPER, ct);
	for (i = 0; i < NF_CT_MAX_EXPECT_CLASSES; i++)
		n += READ_ONCE(help->expecting[i]);
	nf_ct_remove_expectations(ct);
	req->flows++;
	req->expectations += n;
	return 0;	/* keep the flow */
}

/* A pinhole opened by a helper call that was running during flush_flow(). */
static bool flush_late_expectation(struct nf_conntrack_expect *exp,
				   void *data)
{
	const struct nf_conn_help *help = nfct_help(exp->master);
	struct flush_req *req = data;

	if (!help || rcu_access_pointer(help->helper) ||
	    sipalg_ct_data(exp->master)->flushed != SIPALG_CT_FLUSHED ||
	    sipalg_ct_ifindex(exp->master) != req->ifindex)
		return false;
	req->expectations++;
	return true;
}

/*
 * Detach sipalg from every flow @ifindex assigned and remove their
 * expectations; the flows themselves keep going.  Call after the entry is
 * gone: nothing assigns new flows to it any more.  Sleeps.
 */
void sipalg_iface_flush(struct net *net, int ifindex, unsigned int *flows,
			unsigned int *expectations)
{
	struct flush_req req = { .ifindex = ifindex };
	struct nf_ct_iter_data iter = { .net = net, .data = &req };

	/*
	 * A flow assigned just before the entry went is confirmed by the
	 * end of the packet's walk through the hooks, an RCU reader.
	 */
	synchronize_rcu();
	nf_ct_iterate_cleanup_net(flush_flow, &iter);
	/* Helper calls that read the old helper pointer are over after this. */
	synchronize_rcu();
	nf_ct_expect_iterate_net(net, flush_late_expectation, &req, 0, 0);
	/* Counted for the namespace: the interface's entry is gone. */
	sipalg_counters_add(&sipalg_pernet(net)->ctrs,
			    SIPALG_CTR_EXPECT_REMOVED, req.expectations);
	*flows = req.flows;
	*expectations = req.expectations;
}

/* --------------------------------------------------------------- control */

/* After the helpers: nothing may assign a helper before it is registered. */
int sipalg_iface_register(void)
{
	int ret;

	ret = register_pernet_subsys(&sipalg_hooks_net_ops);
	if (ret)
		return ret;
	ret = register_netdevice_notifier(&sipalg_netdev_nb);
	if (ret)
		unregister_pernet_subsys(&sipalg_hooks_net_ops);
	return ret;
}

/* Unregistering the notifier replays NETDEV_UNREGISTER: the tables empty. */
void sipalg_iface_unregister(void)
{
	unregister_netdevice_notifier(&sipalg_netdev_nb);
	unregister_pernet_subsys(&sipalg_hooks_net_ops);
	rcu_barrier();	/* entries freed by call_rcu() */
}
