// SPDX-License-Identifier: GPL-2.0
/*
 * Per-network-namespace state: the counters, readable in
 * /proc/net/sipalg_stats, and the policy (mode, malformed action) a flow is
 * handled with.  Counters are per-CPU so that the packet path never shares
 * a cache line between CPUs.
 */
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "sipalg_alg.h"

struct sipalg_stats {
	u64 ctr[SIPALG_CTR_MAX];
};

struct sipalg_net {
	struct sipalg_stats __percpu *stats;
};

static unsigned int sipalg_net_id __read_mostly;

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
	[SIPALG_CTR_REG_TRACKED] = "registrations-tracked",
	[SIPALG_CTR_REG_RELEASED] = "registrations-released",
};

/*
 * Module-wide policy for now; the control plane makes it per interface.
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
		 "rewrite (default): rewrite Via/Contact/SDP of translated flows and open pinholes; pinhole: open pinholes only, never change a byte");
module_param_cb(malformed, &choice_ops, &malformed, 0644);
MODULE_PARM_DESC(malformed,
		 "a message that does not parse strictly: pass (default, unchanged) or drop");

void sipalg_policy_get(const struct nf_conn *ct, struct sipalg_policy *pol)
{
	pol->mode = READ_ONCE(mode.val);
	pol->malformed = READ_ONCE(malformed.val);
}

void sipalg_count(const struct net *net, enum sipalg_counter ctr)
{
	struct sipalg_net *sn = net_generic(net, sipalg_net_id);

	this_cpu_inc(sn->stats->ctr[ctr]);
}

void sipalg_count_malformed(const struct net *net, enum sip_reason reason)
{
	if (reason > SIP_OK && reason < SIP_R__COUNT)
		sipalg_count(net, SIPALG_CTR_MALFORMED + reason - 1);
}

static u64 counter_sum(const struct sipalg_net *sn, unsigned int ctr)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(sn->stats, cpu)->ctr[ctr];
	return sum;
}

static int stats_show(struct seq_file *seq, void *v)
{
	const struct sipalg_net *sn = net_generic(seq_file_single_net(seq),
						  sipalg_net_id);
	unsigned int i;

	for (i = 0; i < SIPALG_CTR_MALFORMED; i++)
		seq_printf(seq, "%s %llu\n", counter_names[i],
			   counter_sum(sn, i));
	for (i = SIPALG_CTR_MALFORMED; i < SIPALG_CTR_MAX; i++)
		seq_printf(seq, "malformed-%s %llu\n",
			   sip_reason_name(i - SIPALG_CTR_MALFORMED + 1),
			   counter_sum(sn, i));
	return 0;
}

static int __net_init sipalg_net_init(struct net *net)
{
	struct sipalg_net *sn = net_generic(net, sipalg_net_id);

	sn->stats = alloc_percpu(struct sipalg_stats);
	if (!sn->stats)
		return -ENOMEM;
	if (!proc_create_net_single("sipalg_stats", 0444, net->proc_net,
				    stats_show, NULL)) {
		free_percpu(sn->stats);
		return -ENOMEM;
	}
	return 0;
}

static void __net_exit sipalg_net_exit(struct net *net)
{
	struct sipalg_net *sn = net_generic(net, sipalg_net_id);

	remove_proc_entry("sipalg_stats", net->proc_net);
	free_percpu(sn->stats);
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
}
