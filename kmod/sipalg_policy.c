// SPDX-License-Identifier: GPL-2.0
/*
 * A flow's policy: the mode (rewrite or pinhole) and the malformed action
 * it is handled with, and the counters its events are counted in (the
 * namespace's, and the assigning interface's).  The packet path resolves
 * it once per packet (sipalg_policy_get()) and hands it down: the pinhole
 * and registration code it calls count through that policy, never
 * resolving it again.
 *
 * Layers: this file reads the interface table (sipalg_iface.c) and the
 * per-namespace state (sipalg_net.c); neither calls back into it.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/sysfs.h>

#include "sipalg_ctl.h"

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
static struct choice over_limit = { SIPALG_OVER_LIMIT_PASS, { "pass", "drop" } };

/* The limits of flows no interface's own limit applies to (sipalg_limit.c). */
static struct sipalg_limits limits = { .rate = 50, .burst = 100, .calls = 256 };

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

module_param_named(limit_rate, limits.rate, uint, 0644);
MODULE_PARM_DESC(limit_rate,
		 "messages asking for pinholes (SDP, 2xx to REGISTER) per second per source address, where an interface sets no other (sipalgctl set IFACE rate N); 0: no limit (default 50)");
module_param_named(limit_burst, limits.burst, uint, 0644);
MODULE_PARM_DESC(limit_burst,
		 "the burst of limit_rate: as many such messages at once (default 100)");
module_param_named(limit_calls, limits.calls, uint, 0644);
MODULE_PARM_DESC(limit_calls,
		 "concurrent calls with pinholes one source address may open; 0: no limit (default 256)");
module_param_cb(over_limit, &choice_ops, &over_limit, 0644);
MODULE_PARM_DESC(over_limit,
		 "a message over a source's limit: pass (default, without new pinholes) or drop (UDP only: TCP passes)");
module_param_cb(mode, &choice_ops, &mode, 0644);
MODULE_PARM_DESC(mode,
		 "for flows an nftables `ct helper` rule assigned (interfaces have their own, see sipalgctl): rewrite (default): rewrite Via/Contact/SDP of translated flows and open pinholes; pinhole: open pinholes only, never change a byte");
module_param_cb(malformed, &choice_ops, &malformed, 0644);
MODULE_PARM_DESC(malformed,
		 "for flows an nftables `ct helper` rule assigned: a message that does not parse strictly: pass (default, unchanged) or drop");

/* A limit, or the module's where @own is SIPALG_LIMIT_INHERIT. */
static u32 limit_of(const u32 *own, const u32 *module)
{
	u32 v = own ? READ_ONCE(*own) : SIPALG_LIMIT_INHERIT;

	if (v == SIPALG_LIMIT_INHERIT)
		v = READ_ONCE(*module);
	return min_t(u32, v, SIPALG_LIMIT_MAX);
}

/*
 * The limits in force for @iface's flows (@iface NULL: for the flows no
 * configured interface owns): its own, or the module parameters'.
 */
void sipalg_policy_limits(const struct sipalg_iface *iface,
			  struct sipalg_limits *lim, bool *drop)
{
	u8 own = iface ? READ_ONCE(iface->cfg.over_limit) : 0;

	lim->rate = limit_of(iface ? &iface->lim.rate : NULL, &limits.rate);
	lim->burst = limit_of(iface ? &iface->lim.burst : NULL, &limits.burst);
	lim->calls = limit_of(iface ? &iface->lim.calls : NULL, &limits.calls);
	*drop = own ? own - 1 == SIPALG_OVER_LIMIT_DROP :
		      READ_ONCE(over_limit.val) == SIPALG_OVER_LIMIT_DROP;
}

/*
 * A flow an interface assigned follows that interface's current settings;
 * once the interface is no longer configured, the settings it had when it
 * assigned the flow (and the module's limits: the flow has no room for
 * its interface's).  Other flows follow the module parameters.
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
	iface = d ? sipalg_iface_find(sn, d->ifindex) : NULL;
	sipalg_policy_limits(iface, &pol->lim, &pol->over_limit_drop);
	if (!d) {
		pol->mode = READ_ONCE(mode.val);
		pol->malformed = READ_ONCE(malformed.val);
		return;
	}
	cfg.mode = d->mode;
	cfg.malformed = d->malformed;
	if (iface) {
		cfg.word = READ_ONCE(iface->cfg.word);
		pol->ctrs[1] = &iface->ctrs;
	}
	pol->mode = cfg.mode == SIPALG_MODE_PINHOLE ? SIP_MODE_PINHOLE :
						      SIP_MODE_REWRITE;
	pol->malformed = cfg.malformed == SIPALG_MALFORMED_ACTION_DROP ?
			 SIPALG_MALFORMED_DROP : SIPALG_MALFORMED_PASS;
}

void sipalg_policy_count_add(const struct sipalg_policy *pol,
			     enum sipalg_counter ctr, unsigned int n)
{
	sipalg_counters_add(pol->ctrs[0], ctr, n);
	if (pol->ctrs[1])
		sipalg_counters_add(pol->ctrs[1], ctr, n);
}

void sipalg_policy_count(const struct sipalg_policy *pol,
			 enum sipalg_counter ctr)
{
	sipalg_policy_count_add(pol, ctr, 1);
}

void sipalg_policy_count_malformed(const struct sipalg_policy *pol,
				   enum sip_reason reason)
{
	if (reason > SIP_OK && reason < SIP_R__COUNT)
		sipalg_policy_count(pol, SIPALG_CTR_MALFORMED + reason - 1);
}
