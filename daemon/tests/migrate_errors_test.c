// SPDX-License-Identifier: GPL-2.0
/*
 * Migrations that fail because of the other side, with real migd
 * processes ($MIGD) and hand-made peers on 127.0.0.1: a refused
 * connection, a damaged or foreign stream, a destination with other
 * regions, a destination that never answers and one that never confirms.
 * The destination keeps nothing and the guest runs on at the source.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "stream/stream.h"
#include "guest.h"
#include "harness.h"
#include "migd_run.h"

static void test_connect_refused(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	struct env e;
	int s, port;

	env_init(&e);
	make_image(e.src, 16, 1);
	/* A port that was free a moment ago. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(s, (struct sockaddr *)&sin, &sl);
	port = ntohs(sin.sin_port);
	close(s);
	CHECK_EQ(wait_exit(spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d %s", port, e.src),
			   TIMEOUT_MS), 1);
	CHECK(file_has(e.log_src, "cannot connect to 127.0.0.1"));
	CHECK(file_has(e.log_src, "Connection refused"));
	env_fini(&e);
}

/* A stream from a hand-made source: header, one region, a round, pages. */
static void build_stream(struct kvmmig_stream_membuf *mb, const char *name,
			 uint64_t npages)
{
	struct kvmmig_stream_hdr hdr = { .page_size = PS };
	struct kvmmig_stream_region reg = { .id = 0, .size = npages * PS, .page_size = PS };
	struct kvmmig_stream_page pg[2];
	struct kvmmig_stream_writer *w;
	struct kvmmig_stream_sink sink;
	static uint8_t data[PS];

	memset(mb, 0, sizeof(*mb));
	memset(data, 0x5a, sizeof(data));
	snprintf(reg.name, sizeof(reg.name), "%s", name);
	kvmmig_stream_new_id(hdr.migration_id);
	kvmmig_stream_sink_membuf(&sink, mb);
	kvmmig_stream_writer_new(&w, &sink, &hdr, NULL);
	kvmmig_stream_write_regions(w, &reg, 1);
	kvmmig_stream_write_round(w, 1, KVMMIG_ROUND_F_STOPPED, 2);
	pg[0] = (struct kvmmig_stream_page){ .index = 0, .data = data };
	pg[1] = (struct kvmmig_stream_page){ .index = 1, .data = data };
	kvmmig_stream_write_pages(w, 0, pg, 2);
	kvmmig_stream_write_end(w);
	kvmmig_stream_writer_free(w);
}

/* Sends @mb (with byte @flip flipped unless negative) to a destination. */
static void send_raw(int port, struct kvmmig_stream_membuf *mb, long flip)
{
	int s = connect_to(port);
	char buf[4096];

	if (flip >= 0)
		mb->data[flip] ^= 0x01;
	CHECK(s >= 0 && write(s, mb->data, mb->len) == (ssize_t)mb->len);
	shutdown(s, SHUT_WR);
	/* Drain the answer until the destination closes. */
	while (s >= 0 && read(s, buf, sizeof(buf)) > 0)
		;
	close(s);
}

/* The destination rejects a damaged or foreign stream and keeps nothing. */
static void test_rejected_stream(void)
{
	struct kvmmig_stream_membuf mb;
	struct env e;
	int port;
	pid_t d;

	env_init(&e);
	build_stream(&mb, "ram0", 4);
	/* Sanity: as built, it migrates. */
	d = start_dest(&e, &port, e.dst);
	send_raw(port, &mb, -1);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 0);
	CHECK(exists(e.dst));
	unlink(e.dst);
	unlink(e.log_dst);

	/* A flipped bit in the second page's contents: checksum. */
	d = start_dest(&e, &port, e.dst);
	send_raw(port, &mb, mb.len - 16 - 100);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 1);
	CHECK(file_has(e.log_dst, "rejected the stream: PAGE_DATA record at offset"));
	CHECK(file_has(e.log_dst, "CRC"));
	CHECK(!exists(e.dst));
	kvmmig_stream_membuf_free(&mb);
	unlink(e.log_dst);

	/* A region this side does not have. */
	build_stream(&mb, "vga", 4);
	d = start_dest(&e, &port, e.dst);
	send_raw(port, &mb, -1);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 1);
	CHECK(file_has(e.log_dst, "region \"vga\" has no destination here"));
	CHECK(!exists(e.dst));
	kvmmig_stream_membuf_free(&mb);
	unlink(e.log_dst);

	/* Not a stream at all. */
	d = start_dest(&e, &port, e.dst);
	{
		int s = connect_to(port);

		CHECK(s >= 0 && write(s, "GET / HTTP/1.0\r\n\r\n", 18) == 18);
		shutdown(s, SHUT_WR);
		CHECK_EQ(wait_exit(d, TIMEOUT_MS), 1);
		close(s);
	}
	CHECK(file_has(e.log_dst, "rejected the stream: header"));
	CHECK(!exists(e.dst));
	CHECK(!stray_files(&e, clean_set));
	env_fini(&e);
}

/* The source refuses a destination that answers with other regions. */
static void test_region_mismatch(void)
{
	struct env e;
	pid_t d, s;
	int port;
	char args[256];

	env_init(&e);
	make_image(e.src, 64, 7);
	snprintf(args, sizeof(args), "other=%s", e.dst);
	d = start_dest(&e, &port, args);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d %s", port, e.src);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 1);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 1);
	CHECK(file_has(e.log_src, "before accepting the regions"));
	CHECK(file_has(e.log_dst, "the source's region \"ram0\" has no destination"));
	CHECK(!exists(e.dst));
	env_fini(&e);
}

/*
 * A destination that takes everything and then neither confirms nor
 * closes (a hung host): the source times out and the guest runs on.
 */
static void test_silent_peer(void)
{
	struct writer w;
	struct env e;
	int lfd, port, c;
	pid_t s;

	env_init(&e);
	make_image(e.src, 256, 8);
	writer_start(&w, e.src, 256, 500);
	lfd = listen_any(&port);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d --timeout 1 %s", port, e.src);
	c = accept(lfd, NULL, NULL);
	CHECK(c >= 0);
	/* Read nothing: the source stalls in the regions handshake. */
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 1);
	CHECK(file_has(e.log_src, "reading the destination's answer") ||
	      file_has(e.log_src, "no progress"));
	CHECK_EQ(migd_dirtylog_state(&w.log), MIGD_VM_RUNNING);
	CHECK(writer_stop(&w));
	close(c);
	close(lfd);
	env_fini(&e);
}

/* A destination that accepts the regions, swallows everything, never confirms. */
static void test_no_confirmation(void)
{
	struct kvmmig_stream_reader_opts ro = { .mode = KVMMIG_STREAM_FORWARD };
	struct kvmmig_stream_reader *r;
	struct kvmmig_stream_writer *wr;
	struct kvmmig_stream_source src;
	struct kvmmig_stream_sink sink;
	struct kvmmig_stream_hdr hdr;
	struct kvmmig_stream_rec rec;
	struct writer w;
	struct env e;
	int lfd, port, c, ret;
	pid_t s;

	env_init(&e);
	make_image(e.src, 256, 9);
	writer_start(&w, e.src, 256, 500);
	lfd = listen_any(&port);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d --timeout 1 %s", port, e.src);
	c = accept(lfd, NULL, NULL);
	kvmmig_stream_source_fd(&src, c);
	kvmmig_stream_sink_fd(&sink, c);
	CHECK_EQ(kvmmig_stream_reader_new(&r, &src, &ro), 0);
	CHECK_EQ(kvmmig_stream_read_header(r, &hdr), 0);
	CHECK_EQ(kvmmig_stream_read_next(r, &rec), 1);
	hdr.flags = KVMMIG_STREAM_F_RETURN;
	CHECK_EQ(kvmmig_stream_writer_new(&wr, &sink, &hdr, NULL), 0);
	{
		struct kvmmig_stream_region reg = rec.regions.regions[0];

		CHECK_EQ(kvmmig_stream_write_regions(wr, &reg, 1), 0);
	}
	CHECK_EQ(kvmmig_stream_writer_flush(wr), 0);
	while ((ret = kvmmig_stream_read_next(r, &rec)) > 0)
		;
	CHECK_EQ(ret, 0);	/* a whole, valid stream */
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 1);
	CHECK(file_has(e.log_src, "no confirmation from the destination"));
	CHECK(file_has(e.log_src, "VM resumed on the source"));
	CHECK_EQ(migd_dirtylog_state(&w.log), MIGD_VM_RUNNING);
	CHECK(writer_runs(&w, 50));
	CHECK(writer_stop(&w));
	kvmmig_stream_reader_free(r);
	kvmmig_stream_writer_free(wr);
	close(c);
	close(lfd);
	env_fini(&e);
}

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_connect_refused),
	T(test_rejected_stream),
	T(test_region_mismatch),
	T(test_silent_peer),
	T(test_no_confirmation),
#undef T
};

HARNESS_MAIN(tests, migd_run_init)
