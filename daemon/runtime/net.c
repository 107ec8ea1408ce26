/*
 * net.c: a container's place on a network (--net), done by sbx-init create before the container's
 * first process is forked, while it is still root and sees the host's /usr.
 *
 *   --net NETNS HOSTIF BRIDGE ADDR PREFIX GATEWAY MTU MAC
 *
 * One `ip link add` run inside the network's namespace NETNS (the daemon's, never the host's)
 * creates a veth pair: HOSTIF stays there as a port of BRIDGE, its peer lands in the container's
 * new network namespace as eth0 with MAC. eth0 then gets ADDR/PREFIX, is brought up and gets a default
 * route via GATEWAY, with plain ioctls. The pair disappears with the container's namespace.
 */
#include "init.h"
#include <net/route.h>

static const char *ip_binary(void) {
  static const char *cands[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"};
  for (unsigned i = 0; i < sizeof cands / sizeof *cands; i++) if (access(cands[i], X_OK) == 0) return cands[i];
  fail(125, "attach to network: the ip command (iproute2) is not installed");
}

static void set_in(struct sockaddr *sa, const char *dotted, const char *what) {
  struct sockaddr_in *in = (struct sockaddr_in *)sa;
  memset(in, 0, sizeof *in);
  in->sin_family = AF_INET;
  if (inet_pton(AF_INET, dotted, &in->sin_addr) != 1) fail(125, "attach to network: bad %s %s", what, dotted);
}

/* In the network's namespace: the veth pair, the host side up on the bridge, eth0 sent to us. */
static void add_veth(struct opts *o) {
  const char *ip = ip_binary();
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int target = open(o->net_ns, O_RDONLY | O_CLOEXEC);
  if (self < 0 || target < 0) fail(125, "attach to network: open namespace %s: %s", self < 0 ? "of the container" : o->net_ns, strerror(errno));
  int errp[2];
  if (pipe2(errp, O_CLOEXEC) < 0) fail(125, "attach to network: pipe: %s", strerror(errno));
  pid_t c = fork();
  if (c < 0) fail(125, "attach to network: fork: %s", strerror(errno));
  if (c == 0) {
    if (setns(target, CLONE_NEWNET) < 0) _exit(120);
    if (dup2(self, 3) < 0 || dup2(errp[1], 2) < 0) _exit(121);
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) { dup2(nul, 0); dup2(nul, 1); }
    execl(ip, "ip", "link", "add", "name", o->net_if, "mtu", o->net_mtu, "master", o->net_bridge, "up",
          "type", "veth", "peer", "name", "eth0", "mtu", o->net_mtu, "address", o->net_mac, "netns", "/proc/self/fd/3", (char *)NULL);
    _exit(122);
  }
  close(errp[1]);
  close(self);
  close(target);
  char msg[512] = {0};
  size_t got = 0;
  ssize_t n;
  while (got < sizeof msg - 1 && ((n = read(errp[0], msg + got, sizeof msg - 1 - got)) > 0 || (n < 0 && errno == EINTR))) if (n > 0) got += (size_t)n;
  close(errp[0]);
  int st;
  while (waitpid(c, &st, 0) < 0) if (errno != EINTR) fail(125, "attach to network: wait: %s", strerror(errno));
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    while (got > 0 && (msg[got - 1] == '\n' || msg[got - 1] == ' ')) msg[--got] = 0;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    fail(125, "attach to network %s: %s", o->net_bridge, got ? msg : code == 120 ? "cannot enter its namespace" : "ip failed");
  }
}

/* In the container's namespace: eth0 ADDR/PREFIX, up, default route via GATEWAY. */
static void configure_eth0(struct opts *o) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail(125, "attach to network: socket: %s", strerror(errno));
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "eth0");
  set_in(&ifr.ifr_addr, o->net_addr, "address");
  if (ioctl(s, SIOCSIFADDR, &ifr) < 0) fail(125, "attach to network: address %s: %s", o->net_addr, strerror(errno));
  int prefix = atoi(o->net_prefix);
  if (prefix < 1 || prefix > 30) fail(125, "attach to network: bad prefix length %s", o->net_prefix);
  struct sockaddr_in *mask = (struct sockaddr_in *)&ifr.ifr_netmask;
  memset(mask, 0, sizeof *mask);
  mask->sin_family = AF_INET;
  mask->sin_addr.s_addr = htonl(0xffffffffu << (32 - prefix));
  if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0) fail(125, "attach to network: netmask: %s", strerror(errno));
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail(125, "attach to network: eth0 flags: %s", strerror(errno));
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail(125, "attach to network: eth0 up: %s", strerror(errno));
  struct rtentry rt;
  memset(&rt, 0, sizeof rt);
  set_in(&rt.rt_dst, "0.0.0.0", "destination");
  set_in(&rt.rt_genmask, "0.0.0.0", "mask");
  set_in(&rt.rt_gateway, o->net_gw, "gateway");
  rt.rt_flags = RTF_UP | RTF_GATEWAY;
  rt.rt_dev = "eth0";
  if (ioctl(s, SIOCADDRT, &rt) < 0) fail(125, "attach to network: default route via %s: %s", o->net_gw, strerror(errno));
  close(s);
}

void net_attach(struct opts *o) {
  add_veth(o);
  configure_eth0(o);
}

/*
 * hold: the process that keeps a network's namespace alive (started as `unshare --net -- sbx-init
 * hold`). Loopback up, forwarding on inside this namespace only (its own sysctl, not the
 * host's), "ok" on stdout, then it relays the network's DNS: datagrams to port 53 in this
 * namespace go to the daemon as frames on stdout, answers come back as frames on stdin.
 * A frame: u16 length (big-endian) of what follows, the client's IPv4 address (4 bytes) and
 * port (2 bytes), the DNS message. It dies with the daemon (parent-death signal) or when stdin
 * closes.
 */
static int read_full(int fd, unsigned char *b, size_t n) {
  for (size_t got = 0; got < n;) {
    ssize_t r = read(fd, b + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

int net_hold(void) {
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() == 1) return 1;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail(125, "hold: loopback: %s", strerror(errno));
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail(125, "hold: loopback up: %s", strerror(errno));
  close(s);
  int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, "1\n", 2) != 2) fail(125, "hold: enable forwarding in the network's namespace: %s", strerror(errno));
  close(fd);
  int dns = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in any = {0};
  any.sin_family = AF_INET;
  any.sin_port = htons(53);
  if (dns < 0 || bind(dns, (struct sockaddr *)&any, sizeof any) < 0) fail(125, "hold: DNS port: %s", strerror(errno));
  if (write(1, "ok\n", 3) != 3) fail(125, "hold: report readiness: %s", strerror(errno));
  static unsigned char buf[2 + 6 + 65536];
  for (;;) {
    struct pollfd p[2] = {{dns, POLLIN, 0}, {0, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue; return 1; }
    if (p[0].revents) {
      struct sockaddr_in from;
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom(dns, buf + 8, 65536 - 8, 0, (struct sockaddr *)&from, &fl);
      if (n > 0) {
        size_t len = (size_t)n + 6;
        buf[0] = (unsigned char)(len >> 8); buf[1] = (unsigned char)len;
        memcpy(buf + 2, &from.sin_addr, 4);
        memcpy(buf + 6, &from.sin_port, 2);
        if (write(1, buf, len + 2) < 0) return 1;
      }
    }
    if (p[1].revents) {
      if (read_full(0, buf, 2) < 0) return 0;
      size_t len = ((size_t)buf[0] << 8) | buf[1];
      if (len < 6 || read_full(0, buf + 2, len) < 0) return 0;
      struct sockaddr_in to = {0};
      to.sin_family = AF_INET;
      memcpy(&to.sin_addr, buf + 2, 4);
      memcpy(&to.sin_port, buf + 6, 2);
      (void)!sendto(dns, buf + 8, len - 6, 0, (struct sockaddr *)&to, sizeof to);
    }
  }
}
