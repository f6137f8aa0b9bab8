// SPDX-License-Identifier: GPL-2.0
/*
 * Throughput of the core on a realistic message mix, beside two baselines
 * over the same bytes in the same run:
 *   memchr  - a plain memchr('\n') line scan: the floor any parser pays
 *   libosip2 - osip_message_parse() (+ free), a conventional SIP stack
 * Targets (issue 3): parse+plan within 4x of memchr, >= 10x faster than
 * libosip2.
 *
 * Time is the measuring thread's CPU time (CLOCK_THREAD_CPUTIME_ID): on a
 * shared, loaded machine wall time also counts the time the thread was
 * not running, which is noise, and not the same for every row.  On an idle
 * machine the two are the same.  Each row is the best of three
 * interleaved measurements.
 *
 *   bench CORPUS_DIR [SECONDS_PER_MEASUREMENT]
 *   bench CORPUS_DIR --rounds N memchr|parse|plan|osip
 * The second form runs one of them N rounds of the mix and prints nothing:
 * for instruction counts (valgrind --tool=callgrind), which a loaded
 * machine does not disturb.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sip_core.h"
#include "osip_glue.h"

static const char *const mix_files[] = {
	"register.sip",		/* REGISTER */
	"invite_big.sip",	/* INVITE with ~800 bytes of SDP */
	"ok200_sdp.sip",	/* 200 OK with SDP */
	"ack.sip",		/* ACK */
	"bye.sip",		/* BYE */
	"options.sip",		/* OPTIONS */
};
#define N_MIX (sizeof(mix_files) / sizeof(mix_files[0]))

struct m {
	unsigned char *b;
	size_t len;
};

static struct m mix[N_MIX];
static size_t mix_bytes;
static volatile size_t sink;
static struct sip_msg msg;
static struct sip_plan plan;
static struct sip_xlat xlat;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void load(const char *dir)
{
	size_t i;

	for (i = 0; i < N_MIX; i++) {
		char path[1024];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, mix_files[i]);
		f = fopen(path, "rb");
		if (!f) {
			perror(path);
			exit(2);
		}
		mix[i].b = malloc(65536);
		mix[i].len = fread(mix[i].b, 1, 65536, f);
		fclose(f);
		mix_bytes += mix[i].len;
	}
}

static void run_memchr(void)
{
	size_t i, lines = 0;

	for (i = 0; i < N_MIX; i++) {
		const unsigned char *p = mix[i].b, *e = p + mix[i].len;

		while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
			lines++;
			p++;
		}
	}
	sink += lines;
}

static void run_parse(void)
{
	size_t i;

	for (i = 0; i < N_MIX; i++)
		sink += sip_parse(mix[i].b, mix[i].len, 0, &msg) + msg.n_headers;
}

static void run_parse_plan(void)
{
	size_t i;

	for (i = 0; i < N_MIX; i++) {
		if (sip_parse(mix[i].b, mix[i].len, 0, &msg) == SIP_OK) {
			sip_plan(mix[i].b, &msg, &xlat, &plan);
			sink += plan.n_edits;
		}
	}
}

static void run_osip(void)
{
	size_t i;

	for (i = 0; i < N_MIX; i++)
		sink += (size_t)osip_glue_parse((const char *)mix[i].b, mix[i].len);
}

/* Rounds of the whole mix per second, measured for about `secs`. */
static double measure(void (*fn)(void), double secs)
{
	double t0, t;
	unsigned long rounds = 0, batch = 1;

	fn();	/* warm up */
	t0 = now();
	do {
		unsigned long k;

		for (k = 0; k < batch; k++)
			fn();
		rounds += batch;
		if (batch < 1024)
			batch *= 2;
		t = now();
	} while (t - t0 < secs);
	return rounds / (t - t0);
}

int main(int argc, char **argv)
{
	struct sip_port_map map[2] = { { 4000, 41000 }, { 4002, 41002 } };
	double secs = argc > 2 ? atof(argv[2]) : 2.0;
	double r_memchr, r_parse, r_plan, r_osip, best;
	size_t i;
	int rep;

	if (argc < 2) {
		fprintf(stderr, "usage: bench CORPUS_DIR [SECONDS]\n"
			"       bench CORPUS_DIR --rounds N memchr|parse|plan|osip\n");
		return 2;
	}
	load(argv[1]);
	for (i = 0; i < N_MIX; i++)
		if (sip_parse(mix[i].b, mix[i].len, 0, &msg) != SIP_OK) {
			fprintf(stderr, "%s does not parse\n", mix_files[i]);
			return 1;
		}
	sip_addr_parse("192.168.1.2", 11, &xlat.internal.addr);
	xlat.internal.port = 5060;
	sip_addr_parse("203.0.113.100", 13, &xlat.external.addr);
	xlat.external.port = 5060;
	xlat.media_map = map;
	xlat.n_media_map = 2;
	osip_glue_init();
	for (i = 0; i < N_MIX; i++)
		if (osip_glue_parse((const char *)mix[i].b, mix[i].len)) {
			fprintf(stderr, "libosip2 refuses %s\n", mix_files[i]);
			return 1;
		}

	if (argc == 5 && !strcmp(argv[2], "--rounds")) {
		static const struct {
			const char *name;
			void (*fn)(void);
		} runs[] = {
			{ "memchr", run_memchr }, { "parse", run_parse },
			{ "plan", run_parse_plan }, { "osip", run_osip },
		};
		unsigned long n = strtoul(argv[3], NULL, 10), k;

		for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
			if (!strcmp(argv[4], runs[i].name))
				break;
		if (i == sizeof(runs) / sizeof(runs[0])) {
			fprintf(stderr, "bench: unknown run %s\n", argv[4]);
			return 2;
		}
		for (k = 0; k < n; k++)
			runs[i].fn();
		return (int)(sink & 0);
	}

	/* best of three, interleaved, to be fair on a shared machine */
	r_memchr = r_parse = r_plan = r_osip = 0;
	for (rep = 0; rep < 3; rep++) {
		if ((best = measure(run_memchr, secs)) > r_memchr)
			r_memchr = best;
		if ((best = measure(run_parse, secs)) > r_parse)
			r_parse = best;
		if ((best = measure(run_parse_plan, secs)) > r_plan)
			r_plan = best;
		if ((best = measure(run_osip, secs / 2)) > r_osip)
			r_osip = best;
	}
	printf("mix: %zu messages, %zu bytes (REGISTER, INVITE+SDP %zu B, 200 OK+SDP, ACK, BYE, OPTIONS)\n",
	       N_MIX, mix_bytes, mix[1].len);
	printf("%-22s %14s %10s %10s   (per CPU-second of this thread)\n", "",
	       "messages/s", "MB/s", "ns/msg");
#define ROW(name, r) printf("%-22s %14.0f %10.1f %10.1f\n", name, (r) * N_MIX, \
			    (r) * mix_bytes / 1e6, 1e9 / ((r) * N_MIX))
	ROW("memchr line scan", r_memchr);
	ROW("sipalg parse", r_parse);
	ROW("sipalg parse+plan", r_plan);
	ROW("libosip2 parse", r_osip);
	printf("parse+plan / memchr:   %.2fx slower (target <= 4x): %s\n", r_memchr / r_plan,
	       r_memchr / r_plan <= 4.0 ? "met" : "MISSED");
	printf("libosip2 / parse+plan: %.1fx slower (target >= 10x): %s\n", r_plan / r_osip,
	       r_plan / r_osip >= 10.0 ? "met" : "MISSED");
	return (int)(sink & 0);
}
