// SPDX-License-Identifier: GPL-2.0
/* stats: the module's counters, for the namespace or one interface. */
#include "ctl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "genl.h"
#include "json.h"
#include "../kmod/core/sip_core.h"
#include "sipalgctl.h"

/* The same names as /proc/net/sipalg_stats. */
static const char *const stat_names[SIPALG_STAT_MALFORMED_BAD_START_LINE] = {
	[SIPALG_STAT_MESSAGES_SEEN] = "messages-seen",
	[SIPALG_STAT_MESSAGES_PARSED] = "messages-parsed",
	[SIPALG_STAT_MESSAGES_REWRITTEN] = "messages-rewritten",
	[SIPALG_STAT_MESSAGES_DROPPED] = "messages-dropped",
	[SIPALG_STAT_UNCHANGED_NOT_TRANSLATED] = "unchanged-not-translated",
	[SIPALG_STAT_UNCHANGED_PINHOLE_MODE] = "unchanged-pinhole-mode",
	[SIPALG_STAT_UNCHANGED_NOTHING_TO_REWRITE] = "unchanged-nothing-to-rewrite",
	[SIPALG_STAT_UNCHANGED_SPANS_SEGMENTS] = "unchanged-spans-segments",
	[SIPALG_STAT_UNCHANGED_MANGLE_FAILED] = "unchanged-mangle-failed",
	[SIPALG_STAT_EXPECTATIONS_CREATED] = "expectations-created",
	[SIPALG_STAT_EXPECTATIONS_REMOVED] = "expectations-removed",
	[SIPALG_STAT_EXPECTATIONS_FAILED] = "expectations-failed",
	[SIPALG_STAT_EXPECTATIONS_RENEWED] = "expectations-renewed",
	[SIPALG_STAT_REGISTRATIONS_TRACKED] = "registrations-tracked",
	[SIPALG_STAT_REGISTRATIONS_RELEASED] = "registrations-released",
	[SIPALG_STAT_EXPECTATIONS_REFUSED_DESTINATION] = "expectations-refused-destination",
	[SIPALG_STAT_UNCHANGED_AGGREGATED] = "unchanged-aggregated",
	[SIPALG_STAT_EXPECTATIONS_REFUSED_NETNS_CAP] = "expectations-refused-netns-cap",
	[SIPALG_STAT_LIMITED_RATE] = "limited-rate",
	[SIPALG_STAT_LIMITED_CALLS] = "limited-calls",
	[SIPALG_STAT_LIMIT_UNTRACKED] = "limit-untracked",
};

/* The kernel checks that these follow enum sip_reason; so can we. */
_Static_assert(SIPALG_STAT_MAX - SIPALG_STAT_MALFORMED_BAD_START_LINE + 1 ==
	       SIP_R__COUNT - 1, "a malformed counter per reason");

static void stat_name(unsigned int id, char *buf, size_t len)
{
	if (id < SIPALG_STAT_MALFORMED_BAD_START_LINE && stat_names[id])
		snprintf(buf, len, "%s", stat_names[id]);
	else if (id >= SIPALG_STAT_MALFORMED_BAD_START_LINE && id <= SIPALG_STAT_MAX)
		snprintf(buf, len, "malformed-%s",
			 sip_reason_name(id - SIPALG_STAT_MALFORMED_BAD_START_LINE + 1));
	else
		snprintf(buf, len, "counter-%u", id);	/* a newer module's */
}

#define MAX_STATS 256

struct stats_reply {
	unsigned int ifindex;
	char ifname[64];
	bool present[MAX_STATS];
	uint64_t value[MAX_STATS];
};

static int stat_cb(const struct nlattr *attr, void *data)
{
	struct stats_reply *r = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type < MAX_STATS && type != SIPALG_STAT_PAD &&
	    mnl_attr_validate(attr, MNL_TYPE_U64) == 0) {
		r->present[type] = true;
		r->value[type] = mnl_attr_get_u64(attr);
	}
	return MNL_CB_OK;
}

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[SIPALG_A_MAX + 1];
	struct stats_reply *r = data;

	sgenl_parse(nlh, tb);
	if (tb[SIPALG_A_IFINDEX])
		r->ifindex = mnl_attr_get_u32(tb[SIPALG_A_IFINDEX]);
	if (tb[SIPALG_A_IFNAME])
		snprintf(r->ifname, sizeof(r->ifname), "%s",
			 mnl_attr_get_str(tb[SIPALG_A_IFNAME]));
	if (tb[SIPALG_A_STATS])
		mnl_attr_parse_nested(tb[SIPALG_A_STATS], stat_cb, r);
	return MNL_CB_OK;
}

static void stats_usage(FILE *f)
{
	fputs("Usage: sipalgctl stats [-j|--json] [--reset] [IFACE]\n"
	      "Print the counters of this network namespace, or of the flows IFACE\n"
	      "assigned, one \"name value\" per line (the names of\n"
	      "/proc/net/sipalg_stats).\n"
	      "  --reset   set them to zero instead (all interfaces' too without IFACE);\n"
	      "            needs CAP_NET_ADMIN\n"
	      "Exit status: 0 done, 1 failed (e.g. sipalg not enabled on IFACE), 2 usage\n"
	      "error, 3 module not loaded, 4 permission denied.\n", f);
}

static void print_stats(const struct stats_reply *r, bool want_json)
{
	struct json j;
	char name[64];
	unsigned int i;

	if (!want_json) {
		for (i = 0; i < MAX_STATS; i++) {
			if (!r->present[i])
				continue;
			stat_name(i, name, sizeof(name));
			printf("%s %" PRIu64 "\n", name, r->value[i]);
		}
		return;
	}
	json_init(&j, stdout);
	json_obj_begin(&j);
	if (r->ifindex) {
		json_key(&j, "ifname");
		json_str(&j, r->ifname);
		json_key(&j, "ifindex");
		json_int(&j, r->ifindex);
	}
	json_key(&j, "counters");
	json_obj_begin(&j);
	for (i = 0; i < MAX_STATS; i++) {
		if (!r->present[i])
			continue;
		stat_name(i, name, sizeof(name));
		json_key(&j, name);
		json_int(&j, (long long)r->value[i]);
	}
	json_obj_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

int cmd_stats(int argc, char **argv)
{
	static struct stats_reply r;
	char buf[SGENL_MSG_SIZE];
	bool want_json = false, reset = false;
	const char *ifname;
	unsigned int ifindex;
	struct nlmsghdr *nlh;
	struct sgenl g;
	int ret;

	ret = ctl_options(argc, argv, stats_usage, &want_json, "reset", &reset);
	if (ret >= 0)
		return ret;
	ret = ctl_open_iface_arg(argc, argv, stats_usage, &g, &ifname, &ifindex);
	if (ret >= 0)
		return ret;
	nlh = sgenl_request(&g, buf, reset ? SIPALG_CMD_STATS_RESET :
					     SIPALG_CMD_STATS_GET, false);
	if (ifname)
		mnl_attr_put_u32(nlh, SIPALG_A_IFINDEX, ifindex);
	memset(&r, 0, sizeof(r));
	ret = sgenl_talk(&g, nlh, stats_cb, &r);
	if (ret == -ENOENT && ifname) {
		fprintf(stderr, "sipalgctl: sipalg is not enabled on '%s': it has no counters\n",
			ifname);
		ret = EXIT_FAIL;
	} else if (ret) {
		ret = sgenl_fail(&g, ret, reset ? "cannot reset the counters" :
						   "cannot read the counters");
	} else if (!reset) {
		if (ifname && !r.ifname[0])
			snprintf(r.ifname, sizeof(r.ifname), "%s", ifname);
		print_stats(&r, want_json);
	}
	sgenl_close(&g);
	return ret;
}
