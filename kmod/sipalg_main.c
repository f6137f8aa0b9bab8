// SPDX-License-Identifier: GPL-2.0
/*
 * sipalg: module parameters, conntrack helper registration, init and exit.
 *
 * How the helper is registered, and why (net/netfilter/nf_conntrack_helper.c
 * and nft_ct.c; the behaviour on 6.1 is what tests/selftests/coexist.sh and
 * ct_helper.sh check):
 *
 * - nf_conntrack_helper_register() refuses a helper whose tuple (src.l3num,
 *   dst.protonum, src port) equals a registered helper's, even under another
 *   name (-EBUSY; tests/selftests/coexist.sh sees it if l3num is AF_INET).
 *   The in-tree nf_conntrack_sip registers AF_INET/AF_INET6 x UDP/TCP on
 *   5060, so "sipalg" on AF_INET/5060 could not be loaded beside it.
 * - __nf_conntrack_helper_find(name, l3num, protonum), which every lookup by
 *   name goes through (the nftables `ct helper` object, ctnetlink), matches a
 *   helper whose tuple.src.l3num is NFPROTO_UNSPEC for any family.
 * - 6.1 never assigns helpers by tuple (automatic assignment is gone), so the
 *   tuple's port is not used to pick flows.
 *
 * Hence one helper per L4 protocol, named "sipalg", with l3num
 * NFPROTO_UNSPEC: one registration serves IPv4 and IPv6 and never collides
 * with the in-tree helpers.  Its port is the first of ports=; the full list
 * is kept for the code that picks flows by port itself.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/netfilter.h>
#include <linux/string.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>

#include "sipalg_ctl.h"

static char *ports_param = "5060";
module_param_named(ports, ports_param, charp, 0444);
MODULE_PARM_DESC(ports,
		 "SIP ports, comma separated, 1..65535 each, at most 8 (default 5060)");

u16 sipalg_ports[SIPALG_MAX_PORTS];
unsigned int sipalg_nports;

static unsigned int max_flow_pinholes = 64;
module_param(max_flow_pinholes, uint, 0444);
MODULE_PARM_DESC(max_flow_pinholes,
		 "media pinholes one signalling flow may hold open, its calls together, 2..255 (default 64); beyond it new ones are refused");

/*
 * Expectations.  Signalling: the registrar's requests to a registered
 * Contact; the ALG sets them to the registration's lifetime, this is only
 * the initial timeout.  Media: RTP + RTCP per accepted m= line, both
 * directions, several calls sharing one signalling flow.
 */
static struct nf_conntrack_expect_policy
sipalg_exp_policy[SIPALG_EXPECT__COUNT] = {
	[SIPALG_EXPECT_SIGNALLING] = {
		.name		= "signalling",
		.max_expected	= 16,
		.timeout	= 3600,
	},
	[SIPALG_EXPECT_MEDIA] = {
		.name		= "media",
		.max_expected	= 64,	/* max_flow_pinholes */
		.timeout	= 180,
	},
};

struct nf_conntrack_helper sipalg_helpers[2];

/* A port is 1 to 5 decimal digits with a value in 1..65535; no sign, no space. */
static int __init sipalg_parse_port(const char *s, size_t len)
{
	unsigned int v = 0;
	size_t i;

	if (len < 1 || len > 5)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	return v;
}

/*
 * Parse ports= into sipalg_ports[].  Every error is one kernel log line that
 * names the offending value.
 */
static int __init sipalg_parse_ports(const char *list)
{
	const char *tok = list;
	unsigned int n = 0, i;
	size_t len;
	int port;

	if (!list || !*list) {
		pr_err("invalid ports=\"\": give 1 to %d ports, e.g. ports=5060\n",
		       SIPALG_MAX_PORTS);
		return -EINVAL;
	}

	for (;;) {
		len = strcspn(tok, ",");
		/* Long tokens are cut in the message; the list is not printed. */
		port = sipalg_parse_port(tok, len);
		if (port < 0) {
			pr_err("invalid ports=: \"%.*s\" is not a port number (1..65535)\n",
			       (int)min_t(size_t, len, 32), tok);
			return -EINVAL;
		}
		if (n == SIPALG_MAX_PORTS) {
			pr_err("invalid ports=: too many ports at \"%.*s\" (at most %d)\n",
			       (int)len, tok, SIPALG_MAX_PORTS);
			return -EINVAL;
		}
		for (i = 0; i < n; i++) {
			if (sipalg_ports[i] == port) {
				pr_err("invalid ports=: port %d is listed twice\n",
				       port);
				return -EINVAL;
			}
		}
		sipalg_ports[n++] = port;
		if (!tok[len])
			break;
		tok += len + 1;
	}

	sipalg_nports = n;
	return 0;
}

static void __init sipalg_helper_setup(struct nf_conntrack_helper *h,
				       u8 l4proto, u16 port)
{
	strscpy(h->name, SIPALG_HELPER_NAME, sizeof(h->name));
	h->me = THIS_MODULE;
	h->tuple.src.l3num = NFPROTO_UNSPEC;	/* IPv4 and IPv6, see above */
	h->tuple.dst.protonum = l4proto;
	h->tuple.src.u.all = htons(port);
	h->expect_policy = sipalg_exp_policy;
	h->expect_class_max = SIPALG_EXPECT__COUNT - 1;
	h->help = sipalg_help;
	h->from_nlattr = sipalg_reg_synced;	/* a flow a backup commits */
}

static int __init sipalg_init(void)
{
	int ret;

	ret = sipalg_parse_ports(ports_param);
	if (ret)
		return ret;
	/* The conntrack core counts a flow's pinholes of a class in a u8. */
	if (max_flow_pinholes < 2 || max_flow_pinholes > 255) {
		pr_err("invalid max_flow_pinholes=%u: give 2..255\n",
		       max_flow_pinholes);
		return -EINVAL;
	}
	sipalg_exp_policy[SIPALG_EXPECT_MEDIA].max_expected = max_flow_pinholes;

	sipalg_helper_setup(&sipalg_helpers[0], IPPROTO_UDP, sipalg_ports[0]);
	sipalg_helper_setup(&sipalg_helpers[1], IPPROTO_TCP, sipalg_ports[0]);
	ret = sipalg_help_init();
	if (ret)
		return ret;
	ret = sipalg_nat_init();
	if (ret)
		goto err_help;
	ret = sipalg_net_register();
	if (ret)
		goto err_nat;
	ret = sipalg_limit_register();
	if (ret)
		goto err_net_only;
	ret = sipalg_expect_register();
	if (ret)
		goto err_limit;
	ret = nf_conntrack_helpers_register(sipalg_helpers,
					    ARRAY_SIZE(sipalg_helpers));
	if (ret) {
		pr_err("cannot register conntrack helper \"%s\": error %d\n",
		       SIPALG_HELPER_NAME, ret);
		goto err_net;
	}
	/* After them: nothing may assign the helpers before they are registered. */
	ret = sipalg_iface_register();
	if (ret)
		goto err_helpers;
	ret = sipalg_genl_register();
	if (ret)
		goto err_iface;
	return 0;

err_iface:
	sipalg_iface_unregister();
err_helpers:
	nf_conntrack_helpers_unregister(sipalg_helpers,
					ARRAY_SIZE(sipalg_helpers));
err_net:
	sipalg_expect_unregister();
err_limit:
	sipalg_limit_unregister();
err_net_only:
	sipalg_net_unregister();
err_nat:
	sipalg_nat_exit();
err_help:
	sipalg_help_exit();
	return ret;
}

static void __exit sipalg_exit(void)
{
	sipalg_genl_unregister();
	sipalg_iface_unregister();
	nf_conntrack_helpers_unregister(sipalg_helpers,
					ARRAY_SIZE(sipalg_helpers));
	sipalg_expect_unregister();
	sipalg_limit_unregister();
	sipalg_net_unregister();
	sipalg_nat_exit();
	sipalg_help_exit();
}

module_init(sipalg_init);
module_exit(sipalg_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("SIP ALG: rewrites only what NAT requires, opens media pinholes");
MODULE_ALIAS_NFCT_HELPER(SIPALG_HELPER_NAME);
