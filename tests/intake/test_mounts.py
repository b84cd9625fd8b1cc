"""Network mounts are found from the mount table (pure parsing)."""

from __future__ import annotations

from pathlib import Path

from mavi_sync.intake.mounts import fs_type, is_network, parse_mounts, read_mounts

TABLE = parse_mounts("""\
/dev/sda1 / ext4 rw 0 0
nas:/volume1/cams /srv/nvr nfs4 rw 0 0
//nas/photos /mnt/my\\040photos cifs rw 0 0
user@host:/ /mnt/remote fuse.sshfs rw 0 0
tmpfs /srv/nvr/tmp tmpfs rw 0 0
""".splitlines())


def test_the_longest_mount_point_wins() -> None:
    assert fs_type(Path("/srv/nvr/ch1/a.mp4"), TABLE) == "nfs4"
    assert fs_type(Path("/srv/nvr/tmp/x"), TABLE) == "tmpfs"
    assert fs_type(Path("/srv/nvrX"), TABLE) == "ext4"  # a prefix of the name is not the mount
    assert fs_type(Path("/mnt/my photos/DCIM"), TABLE) == "cifs"  # \\040 is a space


def test_network_types() -> None:
    assert all(is_network(k) for k in ("nfs", "nfs4", "cifs", "smb3", "fuse.sshfs", "fuse.rclone", "9p"))
    assert not any(is_network(k) for k in ("ext4", "btrfs", "xfs", "tmpfs", "overlay", "zfs"))


def test_this_machine_has_a_root_mount() -> None:
    assert fs_type(Path("/"), read_mounts()) != "unknown"


def test_only_local_file_systems_that_keep_link_counts_are_trusted_with_them() -> None:
    from mavi_sync.intake.mounts import counts_subdirs
    assert counts_subdirs("ext4") and counts_subdirs("xfs") and counts_subdirs("tmpfs")
    assert not any(counts_subdirs(k) for k in ("btrfs", "nfs", "cifs", "fuse.sshfs", "proc", "unknown", "overlay"))
