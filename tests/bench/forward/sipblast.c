// SPDX-License-Identifier: GPL-2.0
/*
 * sipblast: push copies of one UDP payload through a router as fast as the
 * sender can, and count what arrives on the other side, in batches
 * (sendmmsg/recvmmsg) so that the system calls cost little next to the
 * forwarding path being measured.
 *
 *   sipblast send SRC_IP SRC_PORT DST_IP DST_PORT FILE COUNT
 *       Sends COUNT datagrams, each holding FILE's bytes, from
 *       SRC_IP:SRC_PORT.  Prints "sent N start T0 end T1" (CLOCK_MONOTONIC
 *       seconds: the same clock in every network namespace).
 *   sipblast recv IP PORT COUNT IDLE_MS [READY_FILE]
 *       Counts datagrams until COUNT arrived or, after the first (waited
 *       for up to 60 s), none came for IDLE_MS (creates READY_FILE once
 *       bound).  Prints "received N bytes B first T1 last T2"
 *       (CLOCK_MONOTONIC seconds of the first and the last datagram).
 *
 *   sipblast spray SRC_IP PORT_BASE NPORTS DST_IP DST_PORT FILE WAIT_MS
 *       Many phones: from each of NPORTS sockets bound to SRC_IP:PORT_BASE
 *       .. PORT_BASE + NPORTS - 1, one datagram holding FILE's bytes with
 *       every "PPPPP" replaced by that port and every "MMMMM" by its media
 *       port, twice the port plus 10000 (even, so that one call's RTCP
 *       port is never the next call's RTP port; ports 10000-27767), then
 *       waits up to WAIT_MS for one answer on each socket.  Prints "sprayed N
 *       answered A start T0 end T1".
 *   sipblast answer IP PORT MEDIA_PORT IDLE_MS [READY_FILE]
 *       A registrar and callee that says yes to everything: answers each
 *       request with a 200 OK carrying the request's headers, and when it
 *       holds SDP sends one 172-byte datagram from IP:MEDIA_PORT to the
 *       c= address and m= port it names (the media of the call).  Creates
 *       READY_FILE once bound; stops when nothing came for IDLE_MS after
 *       the first request.  Prints "answered N media M".
 *
 * The rate through the router is N / (T2 - T0): from the first datagram
 * sent to the last one received.  (The receiver's own first-to-last span
 * would measure how fast it drains its socket buffer.)
 *
 * IPv4 only; exit status 1 on an error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BATCH		64
#define MAX_PAYLOAD	65507
#define FIRST_PORT	10000
#define LAST_PORT	27767	/* its media port is 65534 */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int die(const char *what)
{
	fprintf(stderr, "sipblast: %s: %s\n", what, strerror(errno));
	return 1;
}

static int addr_of(const char *ip, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(atoi(port));
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1) {
		fprintf(stderr, "sipblast: bad IPv4 address %s\n", ip);
		return -1;
	}
	return 0;
}

static int bound_socket(const char *ip, const char *port)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	if (addr_of(ip, port, &sa))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static ssize_t read_payload(const char *path, char *buf, size_t size)
{
	ssize_t len;
	int file;

	file = open(path, O_RDONLY);
	if (file < 0)
		return -1;
	len = read(file, buf, size);
	close(file);
	return len;
}

static int touch(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY, 0644);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int blast(char **argv)
{
	static char payload[MAX_PAYLOAD];
	struct mmsghdr msgs[BATCH];
	struct iovec iov;
	struct sockaddr_in dst;
	long count = atol(argv[5]), sent = 0;
	ssize_t len;
	double t0;
	int fd, i, n;

	len = read_payload(argv[4], payload, sizeof(payload));
	if (len <= 0)
		return die(argv[4]);
	if (addr_of(argv[2], argv[3], &dst))
		return 1;
	fd = bound_socket(argv[0], argv[1]);
	if (fd < 0)
		return die("bind");
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)))
		return die("connect");
	iov.iov_base = payload;
	iov.iov_len = len;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now();
	while (sent < count) {
		n = count - sent < BATCH ? count - sent : BATCH;
		n = sendmmsg(fd, msgs, n, 0);
		if (n < 0) {
			/* A full queue or an ICMP error from an earlier datagram. */
			if (errno == ENOBUFS || errno == EAGAIN ||
			    errno == ECONNREFUSED)
				continue;
			return die("sendmmsg");
		}
		sent += n;
	}
	printf("sent %ld start %.6f end %.6f\n", sent, t0, now());
	return 0;
}

static int count_in(char **argv)
{
	static char bufs[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iovs[BATCH];
	long count = atol(argv[2]), got = 0, bytes = 0;
	int idle_ms = atoi(argv[3]), fd, i, n, rcvbuf = 16 << 20;
	struct timeval tv = { 60, 0 };
	double first = 0, last = 0;

	fd = bound_socket(argv[0], argv[1]);
	if (fd < 0)
		return die("bind");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (argv[4] && touch(argv[4]))
		return die(argv[4]);
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		iovs[i].iov_base = bufs[i];
		iovs[i].iov_len = sizeof(bufs[i]);
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (got < count) {
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			return die("recvmmsg");
		}
		last = now();
		if (!got) {
			first = last;
			tv.tv_sec = idle_ms / 1000;
			tv.tv_usec = (idle_ms % 1000) * 1000;
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
		got += n;
		for (i = 0; i < n; i++)
			bytes += msgs[i].msg_len;
	}
	printf("received %ld bytes %ld first %.6f last %.6f\n", got, bytes,
	       first, last);
	return 0;
}

/* Every @mark in @buf (@len bytes) becomes @value, written in five digits. */
static void stamp(char *buf, size_t len, const char *mark, unsigned int value)
{
	char digits[12];
	char *at = buf;

	snprintf(digits, sizeof(digits), "%05u", value % 100000);
	while ((at = memmem(at, len - (at - buf), mark, 5))) {
		memcpy(at, digits, 5);
		at += 5;
	}
}

/* Waits up to @wait_ms for one datagram on each of @n sockets. */
static long collect_answers(struct pollfd *pfd, long n, int wait_ms)
{
	double deadline = now() + wait_ms / 1000.0;
	long answered = 0, i;
	char buf[2048];

	while (answered < n && now() < deadline) {
		if (poll(pfd, n, 100) < 0 && errno != EINTR)
			return answered;
		for (i = 0; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if (recv(pfd[i].fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0) {
				answered++;
				pfd[i].events = 0;
			}
			pfd[i].revents = 0;
		}
	}
	return answered;
}

static int spray(char **argv)
{
	static char template[MAX_PAYLOAD], payload[MAX_PAYLOAD];
	static struct pollfd pfd[LAST_PORT - FIRST_PORT + 1];
	long base = atol(argv[1]), n = atol(argv[2]), answered, i;
	struct rlimit files = { n + 64, n + 64 };
	struct sockaddr_in dst;
	char port[8];
	ssize_t len;
	double t0;

	if (n < 1 || base < FIRST_PORT || base + n - 1 > LAST_PORT) {
		fprintf(stderr, "sipblast: spray takes ports from %d to %d\n",
			FIRST_PORT, LAST_PORT);
		return 1;
	}
	if (setrlimit(RLIMIT_NOFILE, &files))
		return die("setrlimit");
	len = read_payload(argv[5], template, sizeof(template));
	if (len <= 0)
		return die(argv[5]);
	if (addr_of(argv[3], argv[4], &dst))
		return 1;
	t0 = now();
	for (i = 0; i < n; i++) {
		snprintf(port, sizeof(port), "%ld", base + i);
		pfd[i].fd = bound_socket(argv[0], port);
		if (pfd[i].fd < 0)
			return die("bind");
		pfd[i].events = POLLIN;
		memcpy(payload, template, len);
		stamp(payload, len, "PPPPP", base + i);
		stamp(payload, len, "MMMMM", 2 * (base + i) + 10000);
		if (sendto(pfd[i].fd, payload, len, 0, (struct sockaddr *)&dst,
			   sizeof(dst)) != len)
			return die("sendto");
	}
	answered = collect_answers(pfd, n, atoi(argv[6]));
	printf("sprayed %ld answered %ld start %.6f end %.6f\n", n, answered,
	       t0, now());
	return 0;
}

static bool body_field(const char *name)
{
	static const char *const fields[] = {
		"Content-Length:", "l:", "Content-Type:", "c:",
	};
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strncasecmp(name, fields[i], strlen(fields[i])))
			return true;
	return false;
}

/*
 * The 200 OK to request @req (@len bytes, NUL-terminated) into @out: the
 * status line, the request's header fields but Content-Length and
 * Content-Type, and an empty body.  Returns its length, 0 when @req is not a request.
 */
static size_t answer_of(const char *req, size_t len, char *out, size_t size)
{
	const char *line = strstr(req, "\r\n"), *end = strstr(req, "\r\n\r\n");
	size_t n = 0;

	if (!line || !end || !memmem(req, line - req, " SIP/2.0", 8) ||
	    !strncmp(req, "SIP/2.0 ", 8) || len > size / 2)
		return 0;
	n += snprintf(out, size, "SIP/2.0 200 OK");
	while (line < end) {
		const char *next = strstr(line + 2, "\r\n");

		if (!body_field(line + 2)) {
			memcpy(out + n, line, next - line);
			n += next - line;
		}
		line = next;
	}
	n += snprintf(out + n, size - n, "\r\nContent-Length: 0\r\n\r\n");
	return n;
}

/* The c= address and m= port of SDP in @msg, into @media; -1 if none. */
static int media_of(const char *msg, struct sockaddr_in *media)
{
	const char *c = strstr(msg, "\nc=IN IP4 "), *m = strstr(msg, "\nm=audio ");
	char ip[16] = "", port[8] = "";

	if (!c || !m || sscanf(c, "\nc=IN IP4 %15[0-9.]", ip) != 1 ||
	    sscanf(m, "\nm=audio %7[0-9]", port) != 1)
		return -1;
	return addr_of(ip, port, media);
}

static int answer(char **argv)
{
	static char req[MAX_PAYLOAD + 1], resp[2 * MAX_PAYLOAD + 2];
	static const char rtp[172];
	long answered = 0, media = 0;
	struct timeval tv = { 60, 0 };
	struct sockaddr_in from, to;
	socklen_t fromlen;
	int fd, rtp_fd, rcvbuf = 16 << 20;
	ssize_t len;
	size_t n;

	fd = bound_socket(argv[0], argv[1]);
	rtp_fd = bound_socket(argv[0], argv[2]);
	if (fd < 0 || rtp_fd < 0)
		return die("bind");
	if (argv[4] && touch(argv[4]))
		return die(argv[4]);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		fromlen = sizeof(from);
		len = recvfrom(fd, req, MAX_PAYLOAD, 0, (struct sockaddr *)&from,
			       &fromlen);
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			break;
		req[len] = 0;
		n = answer_of(req, len, resp, sizeof(resp));
		if (n && sendto(fd, resp, n, 0, (struct sockaddr *)&from, fromlen) == (ssize_t)n)
			answered++;
		if (n && !media_of(req, &to) &&
		    sendto(rtp_fd, rtp, sizeof(rtp), 0, (struct sockaddr *)&to,
			   sizeof(to)) == sizeof(rtp))
			media++;
		if (answered == 1) {
			tv.tv_sec = atoi(argv[3]) / 1000;
			tv.tv_usec = atoi(argv[3]) % 1000 * 1000;
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
	}
	printf("answered %ld media %ld\n", answered, media);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 8 && !strcmp(argv[1], "send"))
		return blast(argv + 2);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "recv"))
		return count_in(argv + 2);
	if (argc == 9 && !strcmp(argv[1], "spray"))
		return spray(argv + 2);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "answer"))
		return answer(argv + 2);
	fprintf(stderr,
		"usage: sipblast send SRC_IP SRC_PORT DST_IP DST_PORT FILE COUNT\n"
		"       sipblast recv IP PORT COUNT IDLE_MS [READY_FILE]\n"
		"       sipblast spray SRC_IP PORT_BASE NPORTS DST_IP DST_PORT FILE WAIT_MS\n"
		"       sipblast answer IP PORT MEDIA_PORT IDLE_MS [READY_FILE]\n");
	return 2;
}
