/*
 * nfq-shaper: netem's packet faults for kernels without netem, in userspace.
 * iptables sends the target namespace's outgoing packets to NFQUEUE; this
 * program gives each one a verdict: drop it (Gilbert-Elliott bursty loss),
 * hold it (delay with uniform jitter; the verdict is simply given later),
 * release it at once (reorder: it overtakes the held ones, as netem's reorder
 * does), send a copy (duplicate, through a raw socket whose packets carry a
 * mark the iptables rules let through), or flip one byte of its UDP payload
 * (corrupt; the UDP checksum is recomputed so the datagram reaches the
 * application, which must reject it itself; other protocols keep a bad
 * checksum and the receiving kernel drops them).
 *
 * Randomness is a seeded xorshift, so a run can be replayed. On SIGTERM every
 * held packet is released and the counts are printed as one JSON line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_HELD 4096
#define MAX_PACKET 65536
#define DUP_MARK 0x5ee

struct held {
  uint32_t id;
  uint64_t release_ns;
  int duplicate;
  /* Set when the packet was changed (corrupt) or must be copied (duplicate). */
  unsigned char *data;
  int length;
};

static struct {
  uint16_t queue;
  double delay_ms, jitter_ms;
  double duplicate, corrupt, reorder; /* probabilities 0..1 */
  int burst;                          /* Gilbert-Elliott loss on? */
  double ge_p, ge_r, ge_loss_bad, ge_loss_good;
  uint64_t rng;
} config = {.ge_loss_bad = 1.0};

static struct {
  unsigned long seen, dropped, delayed, reordered, duplicated, corrupted, overflow;
} counts;

static struct held held[MAX_HELD];
static int held_count;
static int ge_bad; /* Gilbert-Elliott: in the bad state? */
static int raw_socket = -1;
static volatile sig_atomic_t stopping;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double uniform(void) {
  config.rng ^= config.rng << 13;
  config.rng ^= config.rng >> 7;
  config.rng ^= config.rng << 17;
  return (double)(config.rng >> 11) / 9007199254740992.0;
}

static int chance(double p) { return p > 0 && uniform() < p; }

/* One step of the Gilbert-Elliott chain (netem's gemodel: p, r, 1-h, 1-k). */
static int ge_lost(void) {
  if (ge_bad) {
    if (chance(config.ge_r)) ge_bad = 0;
  } else if (chance(config.ge_p)) {
    ge_bad = 1;
  }
  return chance(ge_bad ? config.ge_loss_bad : config.ge_loss_good);
}

static uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)sum;
}

static uint32_t add_bytes(uint32_t sum, const unsigned char *p, int n) {
  for (int i = 0; i + 1 < n; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += (uint32_t)(p[n - 1] << 8);
  return sum;
}

/* Flip one payload byte; for UDP over IPv4, make the checksum match again. */
static int corrupt_packet(unsigned char *packet, int length) {
  if (length < 20 || (packet[0] >> 4) != 4) return 0;
  int ihl = (packet[0] & 0x0f) * 4;
  int protocol = packet[9];
  int header = protocol == IPPROTO_UDP ? 8 : 0;
  if (length <= ihl + header) return 0;
  int payload = ihl + header;
  int at = payload + (int)(uniform() * (length - payload));
  packet[at] ^= (unsigned char)(1u << (int)(uniform() * 8));
  if (protocol == IPPROTO_UDP) {
    unsigned char *udp = packet + ihl;
    int udp_length = length - ihl;
    udp[6] = udp[7] = 0;
    uint32_t sum = add_bytes(0, packet + 12, 8); /* source and destination addresses */
    sum += IPPROTO_UDP + (uint32_t)udp_length;
    sum = add_bytes(sum, udp, udp_length);
    uint16_t checksum = (uint16_t)~fold(sum);
    if (checksum == 0) checksum = 0xffff;
    udp[6] = (unsigned char)(checksum >> 8);
    udp[7] = (unsigned char)(checksum & 0xff);
  }
  return 1;
}

static void send_copy(const unsigned char *packet, int length) {
  if (length < 20) return;
  struct sockaddr_in to = {.sin_family = AF_INET};
  memcpy(&to.sin_addr, packet + 16, 4);
  if (sendto(raw_socket, packet, (size_t)length, 0, (struct sockaddr *)&to, sizeof to) < 0) {
    fprintf(stderr, "nfq-shaper: duplicate not sent: %s\n", strerror(errno));
  }
}

static void release(struct nfq_q_handle *queue, struct held *h) {
  if (h->data != NULL) {
    nfq_set_verdict(queue, h->id, NF_ACCEPT, (uint32_t)h->length, h->data);
    if (h->duplicate) send_copy(h->data, h->length);
    free(h->data);
    h->data = NULL;
  } else {
    nfq_set_verdict(queue, h->id, NF_ACCEPT, 0, NULL);
  }
}

static int on_packet(struct nfq_q_handle *queue, struct nfgenmsg *message, struct nfq_data *packet_data,
                     void *unused) {
  (void)message;
  (void)unused;
  struct nfqnl_msg_packet_hdr *header = nfq_get_msg_packet_hdr(packet_data);
  if (header == NULL) return 0;
  uint32_t id = ntohl(header->packet_id);
  unsigned char *payload = NULL;
  int length = nfq_get_payload(packet_data, &payload);
  counts.seen++;
  if (config.burst && ge_lost()) {
    counts.dropped++;
    return nfq_set_verdict(queue, id, NF_DROP, 0, NULL);
  }
  struct held h = {.id = id};
  int duplicate = chance(config.duplicate);
  int corrupt = chance(config.corrupt);
  if ((duplicate || corrupt) && length > 0) {
    h.data = malloc((size_t)length);
    if (h.data != NULL) {
      memcpy(h.data, payload, (size_t)length);
      h.length = length;
      h.duplicate = duplicate;
      if (duplicate) counts.duplicated++;
      if (corrupt && corrupt_packet(h.data, length)) counts.corrupted++;
    }
  }
  double delay = config.delay_ms;
  if (config.jitter_ms > 0) delay += (uniform() * 2 - 1) * config.jitter_ms;
  if (delay > 0 && chance(config.reorder)) {
    counts.reordered++;
    delay = 0;
  }
  if (delay <= 0 || held_count == MAX_HELD) {
    if (delay > 0) counts.overflow++;
    release(queue, &h);
    return 0;
  }
  counts.delayed++;
  h.release_ns = now_ns() + (uint64_t)(delay * 1e6);
  held[held_count++] = h;
  return 0;
}

/* Release every held packet that is due (all of them when `all`); return ms to the next one, or -1. */
static int release_due(struct nfq_q_handle *queue, int all) {
  uint64_t now = now_ns();
  uint64_t next = UINT64_MAX;
  int kept = 0;
  for (int i = 0; i < held_count; i++) {
    if (all || held[i].release_ns <= now) {
      release(queue, &held[i]);
    } else {
      if (held[i].release_ns < next) next = held[i].release_ns;
      held[kept++] = held[i];
    }
  }
  held_count = kept;
  if (next == UINT64_MAX) return -1;
  return (int)((next - now + 999999) / 1000000);
}

static double number(const char *flag, const char *text, double min, double max) {
  char *end;
  double value = strtod(text, &end);
  if (*text == '\0' || *end != '\0' || value < min || value > max) {
    fprintf(stderr, "nfq-shaper: %s must be a number from %g to %g, got '%s'\n", flag, min, max, text);
    exit(2);
  }
  return value;
}

/* --loss-burst p[,r[,1-h[,1-k]]] in percent, as netem's gemodel. */
static void parse_burst(const char *text) {
  double values[4] = {0, -1, 100, 0};
  char copy[128];
  snprintf(copy, sizeof copy, "%s", text);
  int n = 0;
  for (char *part = strtok(copy, ","); part != NULL && n < 4; part = strtok(NULL, ",")) {
    values[n++] = number("--loss-burst", part, 0, 100);
  }
  config.burst = 1;
  config.ge_p = values[0] / 100;
  config.ge_r = (values[1] < 0 ? 100 - values[0] : values[1]) / 100;
  config.ge_loss_bad = values[2] / 100;
  config.ge_loss_good = values[3] / 100;
}

static void on_signal(int signal) {
  (void)signal;
  stopping = 1;
}

int main(int argc, char **argv) {
  config.rng = 0x9e3779b97f4a7c15ull;
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i];
    if (i + 1 >= argc) {
      fprintf(stderr, "nfq-shaper: %s needs a value\n", flag);
      return 2;
    }
    const char *value = argv[++i];
    if (strcmp(flag, "--queue") == 0) config.queue = (uint16_t)number(flag, value, 0, 65535);
    else if (strcmp(flag, "--delay-ms") == 0) config.delay_ms = number(flag, value, 0, 60000);
    else if (strcmp(flag, "--jitter-ms") == 0) config.jitter_ms = number(flag, value, 0, 60000);
    else if (strcmp(flag, "--duplicate") == 0) config.duplicate = number(flag, value, 0, 100) / 100;
    else if (strcmp(flag, "--corrupt") == 0) config.corrupt = number(flag, value, 0, 100) / 100;
    else if (strcmp(flag, "--reorder") == 0) config.reorder = number(flag, value, 0, 100) / 100;
    else if (strcmp(flag, "--loss-burst") == 0) parse_burst(value);
    else if (strcmp(flag, "--seed") == 0) {
      uint64_t seed = 1469598103934665603ull; /* FNV-1a of the seed text: any string replays */
      for (const char *c = value; *c; c++) seed = (seed ^ (unsigned char)*c) * 1099511628211ull;
      config.rng = seed ? seed : 1;
    } else {
      fprintf(stderr, "nfq-shaper: unknown option %s\n", flag);
      return 2;
    }
  }
  raw_socket = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  int mark = DUP_MARK;
  if (raw_socket < 0 || setsockopt(raw_socket, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) {
    fprintf(stderr, "nfq-shaper: raw socket for duplicates: %s (needs NET_ADMIN and NET_RAW)\n",
            strerror(errno));
    return 1;
  }
  struct nfq_handle *handle = nfq_open();
  if (handle == NULL) {
    fprintf(stderr, "nfq-shaper: nfq_open: %s\n", strerror(errno));
    return 1;
  }
  struct nfq_q_handle *queue = nfq_create_queue(handle, config.queue, &on_packet, NULL);
  if (queue == NULL || nfq_set_mode(queue, NFQNL_COPY_PACKET, MAX_PACKET) < 0) {
    fprintf(stderr, "nfq-shaper: queue %u: %s\n", config.queue, strerror(errno));
    return 1;
  }
  nfq_set_queue_maxlen(queue, MAX_HELD);
  struct sigaction action = {.sa_handler = on_signal};
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  int fd = nfq_fd(handle);
  static char buffer[MAX_PACKET + 4096];
  fprintf(stderr, "nfq-shaper: ready on queue %u\n", config.queue);
  while (!stopping) {
    int wait = release_due(queue, 0);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int ready = poll(&pfd, 1, wait < 0 ? 1000 : wait);
    if (ready > 0) {
      ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) nfq_handle_packet(handle, buffer, (int)n);
      else if (n < 0 && errno == ENOBUFS) counts.overflow++;
    }
  }
  release_due(queue, 1);
  printf("{\"seen\":%lu,\"dropped\":%lu,\"delayed\":%lu,\"reordered\":%lu,\"duplicated\":%lu,"
         "\"corrupted\":%lu,\"overflow\":%lu}\n",
         counts.seen, counts.dropped, counts.delayed, counts.reordered, counts.duplicated, counts.corrupted,
         counts.overflow);
  fflush(stdout);
  nfq_destroy_queue(queue);
  nfq_close(handle);
  return 0;
}
