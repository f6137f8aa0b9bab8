// SPDX-License-Identifier: GPL-2.0
/*
 * The table of interfaces sipalg is configured on, per network namespace:
 * it follows the interfaces (an entry dies with its interface); a flush
 * detaches the helper and the pinholes of the flows an interface assigned.
 * The packet path reads the table under RCU.
 */
#include <linux/hash.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <net/netfilter/nf_conntrack_ecache.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>

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

/*
 * Configure @ifindex: the fields of @set whose byte in @mask is non-zero.
 * Everything is checked before anything changes.  RTNL held.
 */
int sipalg_iface_set(struct net *net, int ifindex,
		     const union sipalg_iface_cfg *set,
		     const union sipalg_iface_cfg *mask,
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

/* The namespace is going away: no reader is left. */
void sipalg_ifaces_free(struct sipalg_net *sn)
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
	while (n--)
		sipalg_count(ct, SIPALG_CTR_EXPECT_REMOVED);
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
	sipalg_count(exp->master, SIPALG_CTR_EXPECT_REMOVED);
	return true;
}

/*
 * Detach sipalg from every flow @ifindex assigned and remove their
 * expectations; the flows themselves keep going.  Call after the entry is
 * gone (or disabled): nothing assigns new flows to it any more.  Sleeps.
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
	*flows = req.flows;
	*expectations = req.expectations;
}

/* --------------------------------------------------------------- control */

int sipalg_ctl_register(void)
{
	int ret;

	ret = register_netdevice_notifier(&sipalg_netdev_nb);
	if (ret)
		return ret;
	ret = sipalg_genl_register();
	if (ret)
		unregister_netdevice_notifier(&sipalg_netdev_nb);
	return ret;
}

/* Unregistering the notifier replays NETDEV_UNREGISTER: the tables empty. */
void sipalg_ctl_unregister(void)
{
	sipalg_genl_unregister();
	unregister_netdevice_notifier(&sipalg_netdev_nb);
	rcu_barrier();
}
