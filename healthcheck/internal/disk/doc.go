// Package disk judges free space on the filesystem that holds PGDATA. The
// verdict is a pure function of free and total bytes and the thresholds;
// Usage reads those numbers with statfs(2). Free means space an unprivileged
// process (PostgreSQL) may still use, so root-reserved blocks do not count,
// and percentages are of used+available, the complement of df's Use%.
package disk
