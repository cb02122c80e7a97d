/* SPDX-License-Identifier: MIT */
/* Linux-personality test: files in a writable root, paths that try to leave it, statfs. Prints each result;
 * run with --root DIR,rw where DIR holds escape -> /etc/hostname (absolute) and up -> ../.. links ("statfs":
 * that part alone, for a read-only root). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, long rc)
{
    printf("%s: %ld%s%s\n", what, rc, rc < 0 ? " " : "", rc < 0 ? strerror(errno) : "");
    errno = 0;
}

/* Open a path and say what came of it: the first line of the file, or the error. */
static void show_open(const char *path)
{
    char buf[64] = "";
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("open %s: %s\n", path, strerror(errno));
        return;
    }
    long n = read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    printf("open %s: \"%s\"\n", path, buf);
    close(fd);
}

/* The file system's numbers are the host's, its identity is not; read-only as the root is. */
static void show_statfs(void)
{
    struct statfs fs, fs2;
    show("statfs /", statfs("/", &fs));
    show("fstatfs 1", fstatfs(1, &fs2));
    int fd = open("/", O_RDONLY | O_DIRECTORY);
    show("fstatfs /", fstatfs(fd, &fs2));
    close(fd);
    printf("fsid=%d,%d read-only=%d names=%d same type=%d\n", fs.f_fsid.__val[0], fs.f_fsid.__val[1],
           !!(fs.f_flags & ST_RDONLY), fs.f_namelen > 0, fs.f_type == fs2.f_type);
    show("statfs bad buffer", syscall(SYS_statfs, "/", 8));
    show("statfs /nosuch", statfs("/nosuch", &fs));
}

int main(int argc, char **argv)
{
    char buf[256];
    if (argc > 1 && strcmp(argv[1], "statfs") == 0) { /* a read-only root */
        show_statfs();
        return 0;
    }
    show("mkdir /d", mkdir("/d", 0755));
    int fd = open("/d/f.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    show("open /d/f.txt", fd >= 0 ? 0 : -1);
    show("write", write(fd, "hello, root\n", 12));
    show("lseek", lseek(fd, 7, SEEK_SET));
    show("read", read(fd, buf, sizeof(buf)));
    show("pread", pread(fd, buf, 5, 0));
    printf("data=%.5s\n", buf);
    struct stat st;
    show("fstat", fstat(fd, &st));
    printf("size=%lld regular=%d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    unsigned long long sx[32] = { 0 }; /* struct statx: 256 bytes, stx_size at byte 40 */
    show("statx", syscall(SYS_statx, AT_FDCWD, "/d/f.txt", 0, 0x200 /* STATX_SIZE */, sx));
    printf("statx size=%llu\n", sx[5]);
    close(fd);
    show("chdir /d", chdir("/d"));
    show("getcwd", getcwd(buf, sizeof(buf)) ? 0 : -1);
    printf("cwd=%s\n", buf);
    show("rename f.txt g.txt", rename("f.txt", "g.txt"));
    show("stat g.txt", stat("g.txt", &st));
    show("stat ../d/g.txt", stat("../d/g.txt", &st));
    DIR *d = opendir(".");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    printf("entries=%d\n", n);
    show("unlink g.txt", unlink("g.txt"));
    show("chdir /", chdir("/"));
    show("rmdir /d", rmdir("/d"));
    /* escapes: each resolves inside the root */
    show_open("../../../etc/passwd");
    show_open("/escape");
    show_open("/up/etc/passwd");
    show("stat /proc/self/exe", stat("/proc/self/exe", &st));
    show("mkdir /up/x", mkdir("/up/x", 0755));
    show("rmdir /up/x", rmdir("/up/x"));
    show("open bad path", open((const char *)8, O_RDONLY));
    show_statfs();
    return 0;
}
