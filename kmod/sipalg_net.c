// SPDX-License-Identifier: GPL-2.0
/*
 * Per-network-namespace state: the counters, readable in
 * /proc/net/sipalg_stats and over netlink, the table of configured
 * interfaces (sipalg_iface.c), and the policy (mode, malformed action) a
 * flow is handled with.  Counters are per-CPU so that the packet path never
 * shares a cache line between CPUs; a reset records their sums as a base
 * rather than writing other CPUs' counters, which would race with them.
 */
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "sipalg_ctl.h"

static unsigned int sipalg_net_id __read_mostly;

struct sipalg_net *sipalg_pernet(const struct net *net)
{
	return net_generic(net, sipalg_net_id);
}

static const char *const counter_names[SIPALG_CTR_MALFORMED] = {
	[SIPALG_CTR_SEEN] = "messages-seen",
	[SIPALG_CTR_PARSED] = "messages-parsed",
	[SIPALG_CTR_REWRITTEN] = "messages-rewritten",
	[SIPALG_CTR_DROPPED] = "messages-dropped",
	[SIPALG_CTR_UNCHANGED_NO_NAT] = "unchanged-not-translated",
	[SIPALG_CTR_UNCHANGED_PINHOLE_MODE] = "unchanged-pinhole-mode",
	[SIPALG_CTR_UNCHANGED_NOTHING] = "unchanged-nothing-to-rewrite",
	[SIPALG_CTR_UNCHANGED_SPANS_SEGMENTS] = "unchanged-spans-segments",
	[SIPALG_CTR_UNCHANGED_MANGLE_FAILED] = "unchanged-mangle-failed",
	[SIPALG_CTR_EXPECT_CREATED] = "expectations-created",
	[SIPALG_CTR_EXPECT_REMOVED] = "expectations-removed",
	[SIPALG_CTR_EXPECT_FAILED] = "expectations-failed",
	[SIPALG_CTR_EXPECT_RENEWED] = "expectations-renewed",
	[SIPALG_CTR_REG_TRACKED] = "registrations-tracked",
	[SIPALG_CTR_REG_RELEASED] = "registrations-released",
	[SIPALG_CTR_EXPECT_REFUSED_DESTINATION] =
		"expectations-refused-destination",
	[SIPALG_CTR_UNCHANGED_AGGREGATED] = "unchanged-aggregated",
	[SIPALG_CTR_EXPECT_REFUSED_NETNS_CAP] =
		"expectations-refused-netns-cap",
};

/*
 * Module-wide policy, for the flows an nftables `ct helper` rule assigned.
 * Each is an index into its names[] and is read locklessly on the packet
 * path (an int read is atomic; a change applies to the next message).
 */
struct choice {
	int val;
	const char *names[2];
};

static struct choice mode = { SIP_MODE_REWRITE, { "rewrite", "pinhole" } };
static struct choice malformed = { SIPALG_MALFORMED_PASS, { "pass", "drop" } };

static int choice_set(const char *val, const struct kernel_param *kp)
{
	struct choice *c = kp->arg;
	int i;

	for (i = 0; i < 2; i++) {
		if (sysfs_streq(val, c->names[i])) {
			WRITE_ONCE(c->val, i);
			return 0;
		}
	}
	pr_err("sipalg: %s=%s is not valid: use %s or %s\n", kp->name, val,
	       c->names[0], c->names[1]);
	return -EINVAL;
}

static int choice_get(char *buf, const struct kernel_param *kp)
{
	const struct choice *c = kp->arg;

	return sysfs_emit(buf, "%s\n", c->names[READ_ONCE(c->val)]);
}

static const struct kernel_param_ops choice_ops = {
	.set = choice_set,
	.get = choice_get,
};

module_param_cb(mode, &choice_ops, &mode, 0644);
MODULE_PARM_DESC(mode,
		 "for flows an nftables `ct helper` rule assigned (interfaces have their own, see sipalgctl): rewrite (default): rewrite Via/Contact/SDP of translated flows and open pinholes; pinhole: open pinholes only, never change a byte");
module_param_cb(malformed, &choice_ops, &malformed, 0644);
MODULE_PARM_DESC(malformed,
		 "for flows an nftables `ct helper` rule assigned: a message that does not parse strictly: pass (default, unchanged) or drop");

/*
 * A flow an interface assigned follows that interface's current settings;
 * once the interface is no longer configured, the settings it had when it
 * assigned the flow.  Other flows follow the module parameters.
 */
void sipalg_policy_get(const struct nf_conn *ct, struct sipalg_policy *pol)
{
	const struct sipalg_ct_data *d = sipalg_ct_assigner(ct);
	struct sipalg_net *sn = sipalg_pernet(nf_ct_net(ct));
	const struct sipalg_iface *iface;
	union sipalg_iface_cfg cfg;

	BUILD_BUG_ON((int)SIPALG_MODE_REWRITE != (int)SIP_MODE_REWRITE);
	BUILD_BUG_ON((int)SIPALG_MODE_PINHOLE != (int)SIP_MODE_PINHOLE);
	BUILD_BUG_ON((int)SIPALG_MALFORMED_ACTION_PASS !=
		     (int)SIPALG_MALFORMED_PASS);
	BUILD_BUG_ON((int)SIPALG_MALFORMED_ACTION_DROP !=
		     (int)SIPALG_MALFORMED_DROP);

	pol->ctrs[0] = &sn->ctrs;
	pol->ctrs[1] = NULL;
	if (!d) {
		pol->mode = READ_ONCE(mode.val);
		pol->malformed = READ_ONCE(malformed.val);
		return;
	}
	cfg.mode = d->mode;
	cfg.malformed = d->malformed;
	iface = sipalg_iface_find(sn, d->ifindex);
	if (iface) {
		cfg.word = READ_ONCE(iface->cfg.word);
		pol->ctrs[1] = &iface->ctrs;
	}
	pol->mode = cfg.mode == SIPALG_MODE_PINHOLE ? SIP_MODE_PINHOLE :
						      SIP_MODE_REWRITE;
	pol->malformed = cfg.malformed == SIPALG_MALFORMED_ACTION_DROP ?
			 SIPALG_MALFORMED_DROP : SIPALG_MALFORMED_PASS;
}

int sipalg_counters_init(struct sipalg_counters *c)
{
	memset(c->base, 0, sizeof(c->base));
	c->pcpu = alloc_percpu(struct sipalg_stats);
	return c->pcpu ? 0 : -ENOMEM;
}

/* May be called from an RCU callback: free_percpu() does not sleep. */
void sipalg_counters_free(struct sipalg_counters *c)
{
	free_percpu(c->pcpu);
	c->pcpu = NULL;
}

static u64 counters_sum(const struct sipalg_counters *c, unsigned int ctr)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(c->pcpu, cpu)->ctr[ctr];
	return sum;
}

u64 sipalg_counters_read(const struct sipalg_counters *c, unsigned int ctr)
{
	return counters_sum(c, ctr) - READ_ONCE(c->base[ctr]);
}

void sipalg_counters_reset(struct sipalg_counters *c)
{
	unsigned int i;

	for (i = 0; i < SIPALG_CTR_MAX; i++)
		WRITE_ONCE(c->base[i], counters_sum(c, i));
}

static void count_add(const struct sipalg_policy *pol,
		      enum sipalg_counter ctr, unsigned int n)
{
	this_cpu_add(pol->ctrs[0]->pcpu->ctr[ctr], n);
	if (pol->ctrs[1])
		this_cpu_add(pol->ctrs[1]->pcpu->ctr[ctr], n);
}

void sipalg_policy_count(const struct sipalg_policy *pol,
			 enum sipalg_counter ctr)
{
	count_add(pol, ctr, 1);
}

void sipalg_policy_count_malformed(const struct sipalg_policy *pol,
				   enum sip_reason reason)
{
	if (reason > SIP_OK && reason < SIP_R__COUNT)
		sipalg_policy_count(pol, SIPALG_CTR_MALFORMED + reason - 1);
}

/* For events outside the packet path's policy (pinholes, registrations). */
void sipalg_count_add(const struct nf_conn *ct, enum sipalg_counter ctr,
		      unsigned int n)
{
	struct sipalg_policy pol;

	if (!n)
		return;
	rcu_read_lock();
	sipalg_policy_get(ct, &pol);
	count_add(&pol, ctr, n);
	rcu_read_unlock();
}

void sipalg_count(const struct nf_conn *ct, enum sipalg_counter ctr)
{
	sipalg_count_add(ct, ctr, 1);
}

static int stats_show(struct seq_file *seq, void *v)
{
	const struct sipalg_net *sn = sipalg_pernet(seq_file_single_net(seq));
	unsigned int i;

	for (i = 0; i < SIPALG_CTR_MALFORMED; i++)
		seq_printf(seq, "%s %llu\n", counter_names[i],
			   sipalg_counters_read(&sn->ctrs, i));
	for (i = SIPALG_CTR_MALFORMED; i < SIPALG_CTR_MAX; i++)
		seq_printf(seq, "malformed-%s %llu\n",
			   sip_reason_name(i - SIPALG_CTR_MALFORMED + 1),
			   sipalg_counters_read(&sn->ctrs, i));
	return 0;
}

static int __net_init sipalg_net_init(struct net *net)
{
	struct sipalg_net *sn = sipalg_pernet(net);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sn->ifaces); i++)
		INIT_HLIST_HEAD(&sn->ifaces[i]);
	if (sipalg_counters_init(&sn->ctrs))
		return -ENOMEM;
	if (!proc_create_net_single("sipalg_stats", 0444, net->proc_net,
				    stats_show, NULL)) {
		sipalg_counters_free(&sn->ctrs);
		return -ENOMEM;
	}
	return 0;
}

/*
 * The namespace's devices, and with them the entries of its interface
 * table, are gone by now (network devices are unregistered before
 * subsystems exit); the table is emptied anyway in case one is left.
 */
static void __net_exit sipalg_net_exit(struct net *net)
{
	struct sipalg_net *sn = sipalg_pernet(net);

	sipalg_ifaces_free(sn);
	sipalg_untrack(net);
	remove_proc_entry("sipalg_stats", net->proc_net);
	sipalg_counters_free(&sn->ctrs);
}

/* Not __net_initdata: a module's pernet_operations outlive its init. */
static struct pernet_operations sipalg_net_ops = {
	.init = sipalg_net_init,
	.exit = sipalg_net_exit,
	.id = &sipalg_net_id,
	.size = sizeof(struct sipalg_net),
};

int sipalg_net_register(void)
{
	return register_pernet_subsys(&sipalg_net_ops);
}

void sipalg_net_unregister(void)
{
	unregister_pernet_subsys(&sipalg_net_ops);
	rcu_barrier();	/* interface entries freed by call_rcu() */
}
