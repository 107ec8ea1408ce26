/*
 * net.c: a container's place on a network (--net), done by sbx-init create before the container's
 * first process is forked, while it is still root and sees the host's /usr.
 *
 *   --net NETNS HOSTIF BRIDGE ADDR PREFIX GATEWAY MTU MAC
 *
 * One netlink request made inside the network's namespace NETNS (the daemon's, never the host's)
 * creates a veth pair: HOSTIF stays there as a port of BRIDGE, its peer lands in the container's
 * new network namespace as eth0 with MAC. eth0 then gets ADDR/PREFIX, is brought up and gets a default
 * route via GATEWAY, with plain ioctls. The pair disappears with the container's namespace.
 */
#include "init.h"
#include <net/route.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <linux/if_tun.h>

static void set_in(struct sockaddr *sa, const char *dotted, const char *what) {
  struct sockaddr_in *in = (struct sockaddr_in *)sa;
  memset(in, 0, sizeof *in);
  in->sin_family = AF_INET;
  if (inet_pton(AF_INET, dotted, &in->sin_addr) != 1) fail(125, "attach to network: bad %s %s", what, dotted);
}

/* Append one attribute to the message at m (length in its header); returns the attribute. */
static struct rtattr *add_attr(struct nlmsghdr *m, size_t cap, int type, const void *data, size_t len) {
  size_t at = NLMSG_ALIGN(m->nlmsg_len);
  if (at + RTA_SPACE(len) > cap) fail(125, "attach to network: netlink message too long");
  struct rtattr *a = (struct rtattr *)((char *)m + at);
  a->rta_type = (unsigned short)type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  m->nlmsg_len = (unsigned)(at + RTA_SPACE(len));
  return a;
}
static void end_nest(struct nlmsghdr *m, struct rtattr *a) { a->rta_len = (unsigned short)((char *)m + m->nlmsg_len - (char *)a); }

static int parse_mac(const char *s, unsigned char mac[6]) {
  unsigned v[6];
  if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return -1;
  for (int i = 0; i < 6; i++) mac[i] = (unsigned char)v[i];
  return 0;
}

/*
 * In the network's namespace (a netlink socket made there, no process): the veth pair, HOSTIF up
 * as a port of BRIDGE, its peer created straight in our namespace as eth0 with the MAC, both
 * with the MTU. What `ip link add ... master BR up type veth peer name eth0 ... netns` does,
 * without a fork and exec on every start.
 */
static void add_veth(struct opts *o) {
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int target = open(o->net_ns, O_RDONLY | O_CLOEXEC);
  if (self < 0 || target < 0) fail(125, "attach to network: open namespace %s: %s", self < 0 ? "of the container" : o->net_ns, strerror(errno));
  if (setns(target, CLONE_NEWNET) < 0) fail(125, "attach to network: enter %s: %s", o->net_ns, strerror(errno));
  int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (setns(self, CLONE_NEWNET) < 0) fail(125, "attach to network: back to the container's namespace: %s", strerror(errno));
  if (nl < 0 || ctl < 0) fail(125, "attach to network: socket: %s", strerror(errno));
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", o->net_bridge);
  if (ioctl(ctl, SIOCGIFINDEX, &ifr) < 0) fail(125, "attach to network: bridge %s: %s", o->net_bridge, strerror(errno));
  unsigned master = (unsigned)ifr.ifr_ifindex, mtu = (unsigned)atoi(o->net_mtu);
  unsigned char mac[6];
  if (parse_mac(o->net_mac, mac) < 0) fail(125, "attach to network: bad MAC %s", o->net_mac);
  close(ctl);

  static char buf[1024];
  memset(buf, 0, sizeof buf);
  struct nlmsghdr *m = (struct nlmsghdr *)buf;
  m->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  m->nlmsg_type = RTM_NEWLINK;
  m->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
  m->nlmsg_seq = 1;
  struct ifinfomsg *ifi = NLMSG_DATA(m);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_flags = ifi->ifi_change = IFF_UP;
  add_attr(m, sizeof buf, IFLA_IFNAME, o->net_if, strlen(o->net_if) + 1);
  add_attr(m, sizeof buf, IFLA_MTU, &mtu, sizeof mtu);
  add_attr(m, sizeof buf, IFLA_MASTER, &master, sizeof master);
  struct rtattr *linkinfo = add_attr(m, sizeof buf, IFLA_LINKINFO, NULL, 0);
  add_attr(m, sizeof buf, IFLA_INFO_KIND, "veth", 5);
  struct rtattr *data = add_attr(m, sizeof buf, IFLA_INFO_DATA, NULL, 0);
  struct rtattr *peer = add_attr(m, sizeof buf, VETH_INFO_PEER, NULL, 0);
  struct ifinfomsg pi = {0};
  pi.ifi_family = AF_UNSPEC;
  m->nlmsg_len = (unsigned)(NLMSG_ALIGN(m->nlmsg_len) + sizeof pi);
  memcpy((char *)RTA_DATA(peer), &pi, sizeof pi);
  add_attr(m, sizeof buf, IFLA_IFNAME, "eth0", 5);
  add_attr(m, sizeof buf, IFLA_MTU, &mtu, sizeof mtu);
  add_attr(m, sizeof buf, IFLA_ADDRESS, mac, 6);
  add_attr(m, sizeof buf, IFLA_NET_NS_FD, &self, sizeof self);
  end_nest(m, peer);
  end_nest(m, data);
  end_nest(m, linkinfo);

  struct sockaddr_nl k = {0};
  k.nl_family = AF_NETLINK;
  if (sendto(nl, m, m->nlmsg_len, 0, (struct sockaddr *)&k, sizeof k) < 0) fail(125, "attach to network: netlink send: %s", strerror(errno));
  static char ack[4096];
  ssize_t n;
  while ((n = recv(nl, ack, sizeof ack, 0)) < 0 && errno == EINTR) {}
  if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr))) fail(125, "attach to network: netlink: no answer");
  struct nlmsghdr *r = (struct nlmsghdr *)ack;
  if (r->nlmsg_type == NLMSG_ERROR) {
    int err = ((struct nlmsgerr *)NLMSG_DATA(r))->error;
    if (err) fail(125, "attach to network %s: create veth %s: %s", o->net_bridge, o->net_if, strerror(-err));
  }
  close(nl);
  close(self);
  close(target);
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
 *
 * `hold outbound-on-demand`: the outbound helper (pasta) starts on the first packet that needs
 * it, not with the namespace. The holder adds a tun device (OUT_IF) with a last-resort default
 * route (metric OUT_METRIC) and reads it: the first IPv4 packet routed there makes it send an
 * empty frame (length 0) to the daemon, which starts pasta (its default route has metric 0 and
 * wins from then on) and answers with an empty frame; the holder then writes the packets it kept
 * meanwhile back into the tun, where the namespace routes them again, through pasta. No packet
 * is lost, and a network whose containers never leave it costs no pasta.
 */
#define OUT_IF "sbxout0"
#define OUT_METRIC 30000 /* rtentry.rt_metric is a short */
#define OUT_KEEP 64

/* The tun device with its last-resort default route; returns its fd (non-blocking). */
static int outbound_tun(unsigned mtu) {
  int t = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (t < 0) fail(125, "hold: /dev/net/tun: %s", strerror(errno));
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, OUT_IF);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (ioctl(t, TUNSETIFF, &ifr) < 0) fail(125, "hold: tun device: %s", strerror(errno));
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifr.ifr_mtu = (int)mtu;
  if (s < 0 || ioctl(s, SIOCSIFMTU, &ifr) < 0) fail(125, "hold: tun mtu: %s", strerror(errno));
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail(125, "hold: tun flags: %s", strerror(errno));
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail(125, "hold: tun up: %s", strerror(errno));
  /* packets written back come in with the containers' sources: no reverse-path check on it */
  int rp = open("/proc/sys/net/ipv4/conf/" OUT_IF "/rp_filter", O_WRONLY | O_CLOEXEC);
  if (rp >= 0) { (void)!write(rp, "0\n", 2); close(rp); }
  struct rtentry rt;
  memset(&rt, 0, sizeof rt);
  struct sockaddr_in *any = (struct sockaddr_in *)&rt.rt_dst;
  any->sin_family = AF_INET;
  ((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
  rt.rt_flags = RTF_UP;
  rt.rt_metric = OUT_METRIC + 1; /* the ioctl's metric is one more than the route's */
  rt.rt_dev = OUT_IF;
  if (ioctl(s, SIOCADDRT, &rt) < 0) fail(125, "hold: tun default route: %s", strerror(errno));
  close(s);
  return t;
}
static int read_full(int fd, unsigned char *b, size_t n) {
  for (size_t got = 0; got < n;) {
    ssize_t r = read(fd, b + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

/*
 * The relay loop below, in sbx-hold (hold/hold.c, beside this binary, no C library) when it is
 * there: the holder stays as long as its network, and this image (glibc's start-up, the text of
 * every sbx-init verb) would keep ~860 kB mapped for it alone. Returns only if the exec failed.
 */
static void hand_over(int dns, int tun) {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - sizeof "sbx-hold");
  char *slash = n > 0 ? memrchr(path, '/', (size_t)n) : NULL;
  if (!slash) return;
  strcpy(slash + 1, "sbx-hold");
  if (fcntl(dns, F_SETFD, 0) < 0 || (tun >= 0 && fcntl(tun, F_SETFD, 0) < 0)) return;
  char dns_arg[16], tun_arg[16];
  snprintf(dns_arg, sizeof dns_arg, "%d", dns);
  snprintf(tun_arg, sizeof tun_arg, "%d", tun);
  char *args[] = {"sbx-init", "hold", dns_arg, tun_arg, NULL};
  char *env[] = {NULL};
  execve(path, args, env);
  fcntl(dns, F_SETFD, FD_CLOEXEC);
  if (tun >= 0) fcntl(tun, F_SETFD, FD_CLOEXEC);
}

int net_hold(int on_demand, unsigned mtu) {
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
  int tun = on_demand ? outbound_tun(mtu) : -1;
  unsigned char *kept[OUT_KEEP];
  size_t kept_len[OUT_KEEP], nkept = 0;
  int asked = 0;
  if (write(1, "ok\n", 3) != 3) fail(125, "hold: report readiness: %s", strerror(errno));
  hand_over(dns, tun);
  static unsigned char buf[2 + 6 + 65536];
  for (;;) {
    struct pollfd p[3] = {{dns, POLLIN, 0}, {0, POLLIN, 0}, {tun, POLLIN, 0}};
    if (poll(p, 3, -1) < 0) { if (errno == EINTR) continue; return 1; }
    if (tun >= 0 && p[2].revents) {
      ssize_t n;
      while ((n = read(tun, buf, 65536)) > 0) {
        if ((buf[0] >> 4) != 4) continue; /* only IPv4 leaves (the bridges are IPv4-only) */
        if (nkept < OUT_KEEP && (kept[nkept] = malloc((size_t)n))) { memcpy(kept[nkept], buf, (size_t)n); kept_len[nkept++] = (size_t)n; }
        if (!asked) {
          asked = 1;
          if (write(1, "\0\0", 2) != 2) return 1;
        }
      }
    }
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
      if (len == 0 && tun >= 0) {
        /* the outbound path is up: what waited goes back in, and the tun is no longer read */
        for (size_t i = 0; i < nkept; i++) { (void)!write(tun, kept[i], kept_len[i]); free(kept[i]); }
        nkept = 0;
        tun = -1;
        continue;
      }
      if (len < 6 || read_full(0, buf + 2, len) < 0) return 0;
      struct sockaddr_in to = {0};
      to.sin_family = AF_INET;
      memcpy(&to.sin_addr, buf + 2, 4);
      memcpy(&to.sin_port, buf + 6, 2);
      (void)!sendto(dns, buf + 8, len - 6, 0, (struct sockaddr *)&to, sizeof to);
    }
  }
}
