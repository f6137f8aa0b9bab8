// SPDX-License-Identifier: GPL-2.0
/*
 * Per-network-namespace state: the counters, readable in
 * /proc/net/sipalg_stats and over netlink, and the heads of the table of
 * configured interfaces (kept by sipalg_iface.c).  The bottom layer: it
 * calls no other sipalg file.  Counters are per-CPU so that the packet path never
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
	[SIPALG_CTR_LIMITED_RATE] = "limited-rate",
	[SIPALG_CTR_LIMITED_CALLS] = "limited-calls",
	[SIPALG_CTR_LIMIT_UNTRACKED] = "limit-untracked",
};

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

/* Any context: this_cpu_add() is safe against preemption and interrupts. */
void sipalg_counters_add(const struct sipalg_counters *c, unsigned int ctr,
			 unsigned int n)
{
	this_cpu_add(c->pcpu->ctr[ctr], n);
}

void sipalg_counters_reset(struct sipalg_counters *c)
{
	unsigned int i;

	for (i = 0; i < SIPALG_CTR_MAX; i++)
		WRITE_ONCE(c->base[i], counters_sum(c, i));
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

/* The interface table was emptied by sipalg_iface.c's exit, which runs first. */
static void __net_exit sipalg_net_exit(struct net *net)
{
	struct sipalg_net *sn = sipalg_pernet(net);

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
}
