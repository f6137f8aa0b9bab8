// SPDX-License-Identifier: GPL-2.0
/*
 * `sipalgctl probe --local`: is this Linux machine itself rewriting SIP?
 * The kernel's own helper (nf_conntrack_sip + nf_nat_sip) rewrites only the
 * flows an nftables `ct helper` object of type "sip" is assigned to (no
 * kernel since 6.0 assigns helpers by itself); sipalg rewrites the flows of
 * the interfaces it is enabled on and those a "sipalg" object is assigned
 * to.  Each finding comes with the command that turns it off.
 */
#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "json.h"
#include "sipalgctl.h"

#define MAX_FINDINGS	32

struct finding {
	char what[320];
	char turn_off[200];
	bool harmful;
};

struct findings {
	struct finding v[MAX_FINDINGS];
	unsigned int n;
	bool intree_loaded, sipalg_loaded;
};

static void add(struct findings *f, bool harmful, const char *what, const char *turn_off)
{
	unsigned int i;

	for (i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].what, what))
			return;		/* one table, one finding, whatever its objects */
	if (f->n == MAX_FINDINGS)
		return;
	f->v[f->n].harmful = harmful;
	snprintf(f->v[f->n].what, sizeof(f->v[f->n].what), "%s", what);
	snprintf(f->v[f->n].turn_off, sizeof(f->v[f->n].turn_off), "%s", turn_off);
	f->n++;
}

static void read_modules(struct findings *f)
{
	FILE *m = fopen("/proc/modules", "r");
	char line[256];

	if (!m)
		return;
	while (fgets(line, sizeof(line), m)) {
		if (!strncmp(line, "nf_conntrack_sip ", 17) || !strncmp(line, "nf_nat_sip ", 11))
			f->intree_loaded = true;
		if (!strncmp(line, "sipalg ", 7))
			f->sipalg_loaded = true;
	}
	fclose(m);
}

/* `ct helper` objects in the ruleset: type "sip" (the kernel's) or "sipalg". */
static void read_nft(struct findings *f)
{
	FILE *p = popen("nft list ruleset 2>/dev/null", "r");
	char line[512], table[160] = "", what[320], cmd[200];

	if (!p)
		return;
	while (fgets(line, sizeof(line), p)) {
		char fam[16], name[128];
		bool sip = strstr(line, "type \"sip\"") != NULL;

		if (sscanf(line, "table %15s %127s", fam, name) == 2)
			snprintf(table, sizeof(table), "%s %s", fam, name);
		if (!sip && !strstr(line, "type \"sipalg\""))
			continue;
		snprintf(what, sizeof(what), "nftables table %s assigns %s to SIP flows (ct helper)",
			 table, sip ? "the kernel's SIP helper (nf_conntrack_sip/nf_nat_sip), which "
				      "rewrites o=, From, To and the Request-URI," : "sipalg");
		snprintf(cmd, sizeof(cmd), "nft delete table %s", table);
		add(f, sip, what, cmd);
	}
	pclose(p);
}

static void read_sipalg(struct findings *f)
{
	struct iface_entry *v = NULL;
	char what[200], cmd[160];
	size_t n = 0, i;

	if (!f->sipalg_loaded || ctl_iface_list(&v, &n))
		return;
	for (i = 0; i < n; i++) {
		if (!v[i].enabled)
			continue;
		snprintf(what, sizeof(what), "sipalg is enabled on %s in %s mode (%s)", v[i].name,
			 v[i].mode ? "pinhole" : "rewrite",
			 v[i].mode ? "it changes no byte" : "it rewrites only Via, Contact, c= and m=");
		snprintf(cmd, sizeof(cmd), "sipalgctl disable %s", v[i].name);
		add(f, false, what, cmd);
	}
	free(v);
}

int probe_local(bool want_json)
{
	static struct findings f;
	bool harmful = false;
	struct json j;
	unsigned int i;

	read_modules(&f);
	read_nft(&f);
	read_sipalg(&f);
	for (i = 0; i < f.n; i++)
		harmful |= f.v[i].harmful;
	if (want_json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_key(&j, "alg_detected");
		json_bool(&j, f.n > 0);
		json_key(&j, "harmful");
		json_bool(&j, harmful);
		json_key(&j, "intree_helper_loaded");
		json_bool(&j, f.intree_loaded);
		json_key(&j, "findings");
		json_arr_begin(&j);
		for (i = 0; i < f.n; i++) {
			json_obj_begin(&j);
			json_key(&j, "what");
			json_str(&j, f.v[i].what);
			json_key(&j, "harmful");
			json_bool(&j, f.v[i].harmful);
			json_key(&j, "turn_off");
			json_str(&j, f.v[i].turn_off);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		if (!f.n)
			printf("This machine does not rewrite SIP%s.\n", f.intree_loaded ?
			       " (nf_conntrack_sip is loaded, but no nftables rule assigns it to a flow)" : "");
		for (i = 0; i < f.n; i++)
			printf("%s %s\n  to turn it off: %s\n", f.v[i].harmful ? "HARMFUL:" : "ALG:",
			       f.v[i].what, f.v[i].turn_off);
	}
	return !f.n ? EXIT_OK : harmful ? EXIT_ALG_HARMFUL : EXIT_ALG_HARMLESS;
}
