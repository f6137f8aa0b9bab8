// SPDX-License-Identifier: GPL-2.0
/*
 * enable, set, disable, show: sipalg per interface, in the style of ip(8).
 * Interfaces are names here and ifindexes on the wire.
 */
#include "ctl.h"

#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genl.h"
#include "json.h"
#include "sipalgctl.h"

static const char *const mode_names[] = {
	[SIPALG_MODE_REWRITE] = "rewrite",
	[SIPALG_MODE_PINHOLE] = "pinhole",
};

static const char *const malformed_names[] = {
	[SIPALG_MALFORMED_ACTION_PASS] = "pass",
	[SIPALG_MALFORMED_ACTION_DROP] = "drop",
};

static const char *choice_name(const char *const *names, unsigned int n,
			       unsigned int v)
{
	return v < n ? names[v] : "unknown";
}

static const char *const over_limit_names[] = {
	[SIPALG_OVER_LIMIT_PASS] = "pass",
	[SIPALG_OVER_LIMIT_DROP] = "drop",
};

#define MODE_NAME(v) choice_name(mode_names, 2, v)
#define MALFORMED_NAME(v) choice_name(malformed_names, 2, v)
#define OVER_LIMIT_NAME(v) choice_name(over_limit_names, 2, v)

/* The limits' bound, as the module checks it (kmod/sipalg_alg.h). */
#define LIMIT_MAX 1000000

static int lookup_choice(const char *const *names, unsigned int n,
			 const char *val)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!strcmp(val, names[i]))
			return (int)i;
	return -1;
}

/* ctl.h: room for one more entry of a list a callback fills. */
void *ctl_grow(void *v, size_t n, size_t *cap, size_t size)
{
	size_t grown;

	if (n < *cap)
		return v;
	grown = *cap ? *cap * 2 : 16;
	v = realloc(v, grown * size);
	if (v)
		*cap = grown;
	return v;
}

/*
 * Options of the netlink subcommands: -h/--help always, -j/--json when
 * @json is given, --@flag (e.g. "flush") when @flag is.  Options may come
 * anywhere.  Returns -1 to go on, else the exit status.
 */
int ctl_options(int argc, char **argv, void (*usage)(FILE *), bool *json,
		const char *flag, bool *flag_set)
{
	struct option opts[4];
	int c, n = 0;

	opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	if (json)
		opts[n++] = (struct option){ "json", no_argument, NULL, 'j' };
	if (flag)
		opts[n++] = (struct option){ flag, no_argument, NULL, 'f' };
	opts[n] = (struct option){ NULL, 0, NULL, 0 };

	while ((c = getopt_long(argc, argv, json ? "hj" : "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'f':
			*flag_set = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	return -1;
}

/*
 * The optional IFACE operand of show and stats, after the options: opens
 * @g and resolves IFACE (NULL and 0 without one).  Returns -1 to go on
 * with @g open, else the exit status.
 */
int ctl_open_iface_arg(int argc, char **argv, void (*usage)(FILE *),
		       struct sgenl *g, const char **ifname,
		       unsigned int *ifindex)
{
	int ret;

	if (optind < argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	*ifname = optind == argc - 1 ? argv[optind] : NULL;
	*ifindex = 0;
	ret = sgenl_open(g);
	if (ret)
		return ret;
	if (*ifname) {
		*ifindex = sgenl_ifindex(*ifname);
		if (!*ifindex) {
			sgenl_close(g);
			return EXIT_FAIL;
		}
	}
	return -1;
}

/* ---------------------------------------------------------- enable, set */

#define SETTINGS_HELP \
	"  mode rewrite   rewrite Via, Contact and SDP of NATed flows and open the\n" \
	"                 media pinholes (the default for a newly enabled interface)\n" \
	"  mode pinhole   open the pinholes only, never change a byte\n" \
	"  malformed pass forward a message that does not parse strictly unchanged\n" \
	"                 (default)\n" \
	"  malformed drop drop it\n" \
	"  rate N         messages asking for pinholes (SDP, 2xx to REGISTER) per\n" \
	"                 second from one source address (default: the module's\n" \
	"                 limit_rate, 50); 0: no limit\n" \
	"  burst N        as many at once (default: limit_burst, 100)\n" \
	"  calls N        concurrent calls with pinholes per source address\n" \
	"                 (default: limit_calls, 256); 0: no limit\n" \
	"  over-limit pass  a message over a limit passes without new pinholes\n" \
	"                 (default: the module's over_limit, pass)\n" \
	"  over-limit drop  it is dropped (UDP; on TCP it always passes)\n" \
	"Limits are 0 to 1000000.  A setting left out keeps its current value.\n" \
	"Needs CAP_NET_ADMIN.\n" \
	"Exit status: 0 done, 1 refused (the reason is printed), 2 usage error,\n" \
	"3 module not loaded, 4 permission denied.\n"

static void enable_usage(FILE *f)
{
	fputs("Usage: sipalgctl enable IFACE [SETTING VALUE]...\n"
	      "Handle the SIP flows whose first packet enters or leaves through IFACE.\n"
	      SETTINGS_HELP, f);
}

static void set_usage(FILE *f)
{
	fputs("Usage: sipalgctl set IFACE SETTING VALUE [SETTING VALUE]...\n"
	      "Change the settings of an interface sipalg is configured on (enabled or\n"
	      "not; `enable` configures one).\n"
	      SETTINGS_HELP, f);
}

/* Settings given on the command line: -1 or UINT32_MAX where left out. */
struct settings {
	int mode, malformed, over_limit;
	uint32_t rate, burst, calls;
};

static int parse_choice(const char *key, const char *val,
			const char *const *names, int *out)
{
	*out = val ? lookup_choice(names, 2, val) : -1;
	if (*out >= 0)
		return 0;
	fprintf(stderr, "sipalgctl: %s '%s' is not valid: use %s or %s\n", key,
		val ? val : "", names[0], names[1]);
	return -1;
}

/* A limit: decimal digits only, 0 to LIMIT_MAX. */
static int parse_limit(const char *key, const char *val, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (val && val[0] >= '0' && val[0] <= '9') {
		v = strtoul(val, &end, 10);
		if (!*end && v <= LIMIT_MAX) {
			*out = (uint32_t)v;
			return 0;
		}
	}
	fprintf(stderr, "sipalgctl: %s '%s' is not valid: give 0 to %d\n", key,
		val ? val : "", LIMIT_MAX);
	return -1;
}

/* KEY VALUE pairs from argv[@i] on; 0, or -1 when one is not valid. */
static int parse_settings(int argc, char **argv, int i, const char *cmd,
			  void (*usage)(FILE *), struct settings *s)
{
	*s = (struct settings){ -1, -1, -1, UINT32_MAX, UINT32_MAX, UINT32_MAX };
	for (; i < argc; i += 2) {
		const char *key = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		int err;

		if (!strcmp(key, "mode"))
			err = parse_choice(key, val, mode_names, &s->mode);
		else if (!strcmp(key, "malformed"))
			err = parse_choice(key, val, malformed_names, &s->malformed);
		else if (!strcmp(key, "over-limit"))
			err = parse_choice(key, val, over_limit_names, &s->over_limit);
		else if (!strcmp(key, "rate"))
			err = parse_limit(key, val, &s->rate);
		else if (!strcmp(key, "burst"))
			err = parse_limit(key, val, &s->burst);
		else if (!strcmp(key, "calls"))
			err = parse_limit(key, val, &s->calls);
		else {
			fprintf(stderr, "sipalgctl: %s: unknown argument '%s'\n", cmd, key);
			usage(stderr);
			err = -1;
		}
		if (err)
			return -1;
	}
	return 0;
}

static void put_settings(struct nlmsghdr *nlh, const struct settings *s)
{
	if (s->mode >= 0)
		mnl_attr_put_u8(nlh, SIPALG_A_MODE, (uint8_t)s->mode);
	if (s->malformed >= 0)
		mnl_attr_put_u8(nlh, SIPALG_A_MALFORMED, (uint8_t)s->malformed);
	if (s->over_limit >= 0)
		mnl_attr_put_u8(nlh, SIPALG_A_OVER_LIMIT, (uint8_t)s->over_limit);
	if (s->rate != UINT32_MAX)
		mnl_attr_put_u32(nlh, SIPALG_A_LIMIT_RATE, s->rate);
	if (s->burst != UINT32_MAX)
		mnl_attr_put_u32(nlh, SIPALG_A_LIMIT_BURST, s->burst);
	if (s->calls != UINT32_MAX)
		mnl_attr_put_u32(nlh, SIPALG_A_LIMIT_CALLS, s->calls);
}

/* Is @ifindex configured?  0 yes, else an exit status (printed). */
static int configured(const char *ifname, unsigned int ifindex)
{
	struct iface_entry *v;
	size_t n, i;
	int ret = ctl_iface_list(&v, &n);

	if (ret)
		return ret;
	for (i = 0; i < n && v[i].ifindex != ifindex; i++)
		;
	free(v);
	if (i < n)
		return EXIT_OK;
	fprintf(stderr, "sipalgctl: sipalg is not configured on '%s' (use enable)\n", ifname);
	return EXIT_FAIL;
}

/* enable (@enable) or set IFACE SETTING VALUE... */
static int iface_set(int argc, char **argv, bool enable)
{
	void (*usage)(FILE *) = enable ? enable_usage : set_usage;
	const char *cmd = enable ? "enable" : "set";
	char buf[SGENL_MSG_SIZE];
	unsigned int ifindex;
	struct nlmsghdr *nlh;
	struct settings s;
	struct sgenl g;
	const char *ifname;
	int ret;

	ret = ctl_options(argc, argv, usage, NULL, NULL, NULL);
	if (ret >= 0)
		return ret;
	if (optind >= argc || (!enable && optind + 1 >= argc)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	ifname = argv[optind];
	if (parse_settings(argc, argv, optind + 1, cmd, usage, &s))
		return EXIT_USAGE;

	ret = sgenl_open(&g);
	if (ret)
		return ret;
	ifindex = sgenl_ifindex(ifname);
	ret = !ifindex ? EXIT_FAIL : enable ? EXIT_OK : configured(ifname, ifindex);
	if (ret) {
		sgenl_close(&g);
		return ret;
	}
	nlh = sgenl_request(&g, buf, SIPALG_CMD_IFACE_SET, false);
	mnl_attr_put_u32(nlh, SIPALG_A_IFINDEX, ifindex);
	if (enable)
		mnl_attr_put_u8(nlh, SIPALG_A_ENABLED, 1);
	put_settings(nlh, &s);
	ret = sgenl_talk(&g, nlh, NULL, NULL);
	if (ret) {
		char ctx[64];

		snprintf(ctx, sizeof(ctx), "cannot %s sipalg on '%s'", cmd, ifname);
		ret = sgenl_fail(&g, ret, ctx);
	}
	sgenl_close(&g);
	return ret;
}

int cmd_enable(int argc, char **argv)
{
	return iface_set(argc, argv, true);
}

int cmd_set(int argc, char **argv)
{
	return iface_set(argc, argv, false);
}

/* --------------------------------------------------------------- disable */

static void disable_usage(FILE *f)
{
	fputs("Usage: sipalgctl disable IFACE [--flush]\n"
	      "Stop handling new SIP flows that enter or leave through IFACE and forget\n"
	      "its settings.  Flows already handled keep the ALG (with the settings they\n"
	      "started with) until they end, unless\n"
	      "  --flush   also detach the ALG from the flows IFACE assigned and remove\n"
	      "            their pinholes (the flows themselves go on, untouched)\n"
	      "Needs CAP_NET_ADMIN.\n"
	      "Exit status: 0 done, 1 refused (e.g. not enabled on IFACE), 2 usage error,\n"
	      "3 module not loaded, 4 permission denied.\n", f);
}

static int flushed_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[SIPALG_A_MAX + 1];
	unsigned int *counts = data;

	sgenl_parse(nlh, tb);
	if (tb[SIPALG_A_FLUSHED_FLOWS])
		counts[0] = mnl_attr_get_u32(tb[SIPALG_A_FLUSHED_FLOWS]);
	if (tb[SIPALG_A_FLUSHED_EXPECTATIONS])
		counts[1] = mnl_attr_get_u32(tb[SIPALG_A_FLUSHED_EXPECTATIONS]);
	return MNL_CB_OK;
}

int cmd_disable(int argc, char **argv)
{
	char buf[SGENL_MSG_SIZE];
	unsigned int ifindex, counts[2] = { 0, 0 };
	struct nlmsghdr *nlh;
	bool flush = false;
	struct sgenl g;
	int ret;

	ret = ctl_options(argc, argv, disable_usage, NULL, "flush", &flush);
	if (ret >= 0)
		return ret;
	if (optind != argc - 1) {
		disable_usage(stderr);
		return EXIT_USAGE;
	}
	ret = sgenl_open(&g);
	if (ret)
		return ret;
	ifindex = sgenl_ifindex(argv[optind]);
	if (!ifindex) {
		sgenl_close(&g);
		return EXIT_FAIL;
	}
	nlh = sgenl_request(&g, buf, SIPALG_CMD_IFACE_DEL, false);
	mnl_attr_put_u32(nlh, SIPALG_A_IFINDEX, ifindex);
	if (flush)
		mnl_attr_put(nlh, SIPALG_A_FLUSH, 0, NULL);
	ret = sgenl_talk(&g, nlh, flushed_cb, counts);
	if (ret == -ENOENT) {
		fprintf(stderr, "sipalgctl: sipalg is not enabled on '%s'\n", argv[optind]);
		ret = EXIT_FAIL;
	} else if (ret) {
		char ctx[64];

		snprintf(ctx, sizeof(ctx), "cannot disable sipalg on '%s'", argv[optind]);
		ret = sgenl_fail(&g, ret, ctx);
	} else if (flush) {
		printf("%s: detached %u flow%s, removed %u pinhole%s\n",
		       argv[optind], counts[0], counts[0] == 1 ? "" : "s",
		       counts[1], counts[1] == 1 ? "" : "s");
	}
	sgenl_close(&g);
	return ret;
}

/* ------------------------------------------------------------------ show */

static void show_usage(FILE *f)
{
	fputs("Usage: sipalgctl show [-j|--json] [IFACE]\n"
	      "Show the interfaces sipalg is configured on (enabled or disabled, mode,\n"
	      "malformed action, the limits in force and the over-limit action), or\n"
	      "IFACE's settings (\"off\" when none).\n"
	      "Exit status: 0 done, 1 failed, 2 usage error, 3 module not loaded.\n", f);
}

struct iface_list {
	struct iface_entry *v;
	size_t n, cap;
};

static int iface_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[SIPALG_A_MAX + 1];
	struct iface_list *l = data;
	struct iface_entry *e, *v;

	sgenl_parse(nlh, tb);
	if (!tb[SIPALG_A_IFINDEX])
		return MNL_CB_OK;
	v = ctl_grow(l->v, l->n, &l->cap, sizeof(*l->v));
	if (!v)
		return MNL_CB_ERROR;
	l->v = v;
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	e->ifindex = mnl_attr_get_u32(tb[SIPALG_A_IFINDEX]);
	if (tb[SIPALG_A_IFNAME])
		snprintf(e->name, sizeof(e->name), "%s", mnl_attr_get_str(tb[SIPALG_A_IFNAME]));
	else
		snprintf(e->name, sizeof(e->name), "if%u", e->ifindex);
	e->enabled = tb[SIPALG_A_ENABLED] && mnl_attr_get_u8(tb[SIPALG_A_ENABLED]);
	e->mode = tb[SIPALG_A_MODE] ? mnl_attr_get_u8(tb[SIPALG_A_MODE]) : 0;
	e->malformed = tb[SIPALG_A_MALFORMED] ? mnl_attr_get_u8(tb[SIPALG_A_MALFORMED]) : 0;
	e->has_limits = tb[SIPALG_A_LIMIT_RATE] && tb[SIPALG_A_LIMIT_BURST] &&
			tb[SIPALG_A_LIMIT_CALLS] && tb[SIPALG_A_OVER_LIMIT];
	if (e->has_limits) {
		e->rate = mnl_attr_get_u32(tb[SIPALG_A_LIMIT_RATE]);
		e->burst = mnl_attr_get_u32(tb[SIPALG_A_LIMIT_BURST]);
		e->calls = mnl_attr_get_u32(tb[SIPALG_A_LIMIT_CALLS]);
		e->over_limit = mnl_attr_get_u8(tb[SIPALG_A_OVER_LIMIT]);
	}
	return MNL_CB_OK;
}

int ctl_iface_list(struct iface_entry **v, size_t *n)
{
	char buf[SGENL_MSG_SIZE];
	struct iface_list l = { 0 };
	struct sgenl g;
	int ret = sgenl_open(&g);

	if (ret)
		return ret;
	ret = sgenl_talk(&g, sgenl_request(&g, buf, SIPALG_CMD_IFACE_GET, true), iface_cb, &l);
	sgenl_close(&g);
	if (ret) {
		free(l.v);
		return EXIT_FAIL;
	}
	*v = l.v;
	*n = l.n;
	return EXIT_OK;
}

static int by_ifindex(const void *a, const void *b)
{
	const struct iface_entry *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

static void show_entry(struct json *j, const struct iface_entry *e,
		       bool configured)
{
	if (!j) {
		if (configured)
			printf("%s: %s mode %s malformed %s", e->name,
			       e->enabled ? "enabled" : "disabled",
			       MODE_NAME(e->mode), MALFORMED_NAME(e->malformed));
		else
			printf("%s: off", e->name);
		if (configured && e->has_limits)
			printf(" rate %u burst %u calls %u over-limit %s", e->rate,
			       e->burst, e->calls, OVER_LIMIT_NAME(e->over_limit));
		putchar('\n');
		return;
	}
	json_obj_begin(j);
	json_key(j, "ifname");
	json_str(j, e->name);
	json_key(j, "ifindex");
	json_int(j, e->ifindex);
	json_key(j, "configured");
	json_bool(j, configured);
	json_key(j, "enabled");
	json_bool(j, configured && e->enabled);
	json_key(j, "mode");
	if (configured)
		json_str(j, MODE_NAME(e->mode));
	else
		json_null(j);
	json_key(j, "malformed");
	if (configured)
		json_str(j, MALFORMED_NAME(e->malformed));
	else
		json_null(j);
	if (configured && e->has_limits) {
		json_key(j, "rate");
		json_int(j, e->rate);
		json_key(j, "burst");
		json_int(j, e->burst);
		json_key(j, "calls");
		json_int(j, e->calls);
		json_key(j, "over_limit");
		json_str(j, OVER_LIMIT_NAME(e->over_limit));
	}
	json_obj_end(j);
}

int cmd_show(int argc, char **argv)
{
	char buf[SGENL_MSG_SIZE];
	struct iface_list l = { 0 };
	struct nlmsghdr *nlh;
	struct json json, *j = NULL;
	bool want_json = false;
	const char *ifname;
	unsigned int ifindex;
	struct sgenl g;
	size_t i;
	int ret;

	ret = ctl_options(argc, argv, show_usage, &want_json, NULL, NULL);
	if (ret >= 0)
		return ret;
	ret = ctl_open_iface_arg(argc, argv, show_usage, &g, &ifname, &ifindex);
	if (ret >= 0)
		return ret;
	nlh = sgenl_request(&g, buf, SIPALG_CMD_IFACE_GET, !ifname);
	if (ifname)
		mnl_attr_put_u32(nlh, SIPALG_A_IFINDEX, ifindex);
	ret = sgenl_talk(&g, nlh, iface_cb, &l);
	if (ret && !(ret == -ENOENT && ifname)) {
		ret = sgenl_fail(&g, ret, "cannot read the interface settings");
		goto out;
	}
	ret = EXIT_OK;
	qsort(l.v, l.n, sizeof(*l.v), by_ifindex);
	if (want_json) {
		j = &json;
		json_init(j, stdout);
		json_arr_begin(j);
	}
	if (ifname && !l.n) {
		struct iface_entry off = { .ifindex = ifindex };

		snprintf(off.name, sizeof(off.name), "%s", ifname);
		show_entry(j, &off, false);
	}
	for (i = 0; i < l.n; i++)
		show_entry(j, &l.v[i], true);
	if (j) {
		json_arr_end(j);
		json_finish(j);
	}
out:
	free(l.v);
	sgenl_close(&g);
	return ret;
}
