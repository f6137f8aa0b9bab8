// SPDX-License-Identifier: GPL-2.0
/*
 * sipalgctl: control and inspect the sipalg SIP ALG.
 *
 * Subcommands live in a table: the offline ones (parse, rewrite) run the
 * module's core in userspace; the netlink ones (enable, disable, show,
 * stats, flows) are added to the same table by their own file.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "ctl.h"
#include "offline.h"
#include "probe.h"
#include "sipalgctl.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);	/* argv[0] is the subcommand */
	bool reads;	/* a read command: takes -j/--json */
	const char *summary;
};

static const struct subcommand subcommands[] = {
#ifndef SIPALGCTL_OFFLINE_ONLY	/* userspace/Makefile NETLINK=0 */
	{ "enable", cmd_enable, false, "handle SIP flows through an interface (mode, malformed action)" },
	{ "set", cmd_set, false, "change an interface's settings (mode, limits per source)" },
	{ "disable", cmd_disable, false, "stop handling new flows through an interface (--flush: and its flows)" },
	{ "show", cmd_show, true, "show the interfaces sipalg is configured on" },
	{ "stats", cmd_stats, true, "print (or --reset) the counters of the namespace or an interface" },
	{ "flows", cmd_flows, true, "list the connections sipalg handles and their pinholes" },
#endif
	{ "parse", cmd_parse, true, "parse a SIP message as the module does and show what it found" },
	{ "rewrite", cmd_rewrite, false, "print the bytes the module would send for a message" },
#ifndef SIPALGCTL_OFFLINE_ONLY
	{ "probe", cmd_probe, true, "is an ALG on the path to a reflector breaking SIP? (no module needed)" },
	{ "reflect", cmd_reflect, false, "answer probes, on a public host (no module needed)" },
#endif
};

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	size_t i;

	fputs("Usage: sipalgctl [-j|--json] [--version] [--help] COMMAND [ARGS]\n\nCommands:\n", f);
	for (i = 0; i < N_SUBCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
	fputs("\n-j, --json  JSON output of the read commands (show, stats, flows, parse,\n"
	      "            probe), given before the command (as in ip -j) or among its options\n"
	      "\nsipalgctl COMMAND --help shows a command's options; see sipalgctl(8).\n", f);
}

static bool is_json_flag(const char *arg)
{
	return !strcmp(arg, "-j") || !strcmp(arg, "--json");
}

/*
 * Runs @sub with its own arguments; a -j/--json given before the command
 * (as iproute2 takes it) is handed to the command as its first option.
 */
static int run(const struct subcommand *sub, int argc, char **argv, bool json)
{
	static char json_opt[] = "--json";
	char **sub_argv;
	int ret;

	optind = 1;
	if (!json)
		return sub->run(argc, argv);
	if (!sub->reads) {
		fprintf(stderr, "sipalgctl: %s takes no -j/--json (only the read commands do)\n",
			sub->name);
		return EXIT_USAGE;
	}
	sub_argv = calloc((size_t)argc + 2, sizeof(*sub_argv));
	if (!sub_argv) {
		fputs("sipalgctl: out of memory\n", stderr);
		return EXIT_FAIL;
	}
	sub_argv[0] = argv[0];
	sub_argv[1] = json_opt;
	memcpy(sub_argv + 2, argv + 1, (size_t)(argc - 1) * sizeof(*sub_argv));
	ret = sub->run(argc + 1, sub_argv);
	free(sub_argv);
	return ret;
}

int main(int argc, char **argv)
{
	bool json = false;
	int first = 1;
	size_t i;

	while (first < argc && is_json_flag(argv[first])) {
		json = true;
		first++;
	}
	if (first == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[first], "--version") || !strcmp(argv[first], "-V")) {
		printf("sipalgctl %s\n", SIPALG_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[first], "--help") || !strcmp(argv[first], "-h") ||
	    !strcmp(argv[first], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (i = 0; i < N_SUBCOMMANDS; i++)
		if (!strcmp(argv[first], subcommands[i].name))
			return run(&subcommands[i], argc - first, argv + first, json);
	fprintf(stderr, "sipalgctl: unknown command \"%s\"\n", argv[first]);
	usage(stderr);
	return EXIT_USAGE;
}
