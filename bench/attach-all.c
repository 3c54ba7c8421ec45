// Loads a BPF object, attaches every program in it (libbpf picks the attach point from
// its section name), touches READY_FILE and holds the programs until SIGINT or SIGTERM.
// bpftool 7.1 (Debian 12) cannot attach tp_btf programs (no `autoattach`), hence this.
//   attach-all OBJECT READY_FILE
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	int attached = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: attach-all OBJECT READY_FILE\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "attach-all: loading %s failed\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "attach-all: attaching %s failed\n", bpf_program__name(prog));
			return 1;
		}
		attached++;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	FILE *ready = fopen(argv[2], "w");
	if (!ready) {
		perror(argv[2]);
		return 1;
	}
	fclose(ready);
	fprintf(stderr, "attach-all: %d programs attached\n", attached);
	while (!stop)
		pause();
	bpf_object__close(obj); /* the links go with the process */
	return 0;
}
