"""Real CVE records and Windows security updates the TVM emulator derives vulnerabilities from.

Public facts only. Each record was read from the CVE List (``CVEProject/cvelistV5``, the CNA and
CISA-ADP containers): publication date, affected versions, CVSS v3 vector and score, and CISA's
exploitation status (``active`` = in CISA's Known Exploited Vulnerabilities catalogue, ``poc`` =
public proof of concept). Where a record carries no CVSS (MITRE/Chrome/curl/Apache CNAs) the NVD
score is used and marked UNVERIFIED (NVD itself was not read). Windows fixed builds come from the
Microsoft CNA records; the cumulative update (KB) that first ships each build comes from
Microsoft's Windows update history (``WINDOWS_UPDATES``).

Product names follow TVM's CPE-style ``vendor``/``name`` pairs (``google``/``chrome``,
``microsoft``/``windows_10``), as the API's ``productName``/``productVendor`` show them.
"""

from __future__ import annotations

from dataclasses import dataclass

from mdekit.emulator.defender.tvm.versions import in_range

__all__ = [
    "CVES",
    "CVE_BY_ID",
    "WINDOWS_UPDATES",
    "Affected",
    "Cve",
    "WindowsUpdate",
    "kb_for",
    "severity_for",
]


@dataclass(frozen=True)
class WindowsUpdate:
    """A monthly cumulative update: the OS product it applies to, the build it installs, its KB."""

    product: str
    build: str
    kb: str
    month: str  # "August 2024": TVM names missing KBs "<Month Year> Security Updates"

    @property
    def name(self) -> str:
        """The security update's display name, as ``getmissingkbs`` shows it."""
        return f"{self.month} Security Updates"


def _updates(product: str, prefix: str, rows: str) -> tuple[WindowsUpdate, ...]:
    out = []
    for line in rows.strip().splitlines():
        month, build, kb = (p.strip() for p in line.split("|"))
        out.append(WindowsUpdate(product, f"{prefix}.{build}", kb, month))
    return tuple(out)


# Security (Patch Tuesday) cumulative updates, July 2024 - June 2025, from Microsoft's update
# history pages ("August 13, 2024-KB5041580 (OS Builds 19044.4780 and 19045.4780)" ...).
WINDOWS_UPDATES: tuple[WindowsUpdate, ...] = (
    *_updates(
        "windows_10",
        "10.0.19045",
        """
        July 2024 | 4651 | 5040427
        August 2024 | 4780 | 5041580
        September 2024 | 4894 | 5043064
        October 2024 | 5011 | 5044273
        November 2024 | 5131 | 5046613
        December 2024 | 5247 | 5048652
        January 2025 | 5371 | 5049981
        February 2025 | 5487 | 5051974
        March 2025 | 5608 | 5053606
        April 2025 | 5737 | 5055518
        May 2025 | 5854 | 5058379
        June 2025 | 5965 | 5060533
        """,
    ),
    *_updates(
        "windows_11",
        "10.0.22631",
        """
        July 2024 | 3880 | 5040442
        August 2024 | 4037 | 5041585
        September 2024 | 4169 | 5043076
        October 2024 | 4317 | 5044285
        November 2024 | 4460 | 5046633
        December 2024 | 4602 | 5048685
        January 2025 | 4751 | 5050021
        February 2025 | 4890 | 5051989
        March 2025 | 5039 | 5053602
        April 2025 | 5189 | 5055528
        May 2025 | 5335 | 5058405
        June 2025 | 5472 | 5060999
        """,
    ),
    *_updates(
        "windows_server_2019",
        "10.0.17763",
        """
        July 2024 | 6054 | 5040430
        August 2024 | 6189 | 5041578
        September 2024 | 6293 | 5043050
        October 2024 | 6414 | 5044277
        November 2024 | 6532 | 5046615
        December 2024 | 6659 | 5048661
        January 2025 | 6775 | 5050008
        February 2025 | 6893 | 5052000
        March 2025 | 7009 | 5053596
        April 2025 | 7136 | 5055519
        May 2025 | 7314 | 5058392
        June 2025 | 7434 | 5060531
        """,
    ),
    *_updates(
        "windows_server_2022",
        "10.0.20348",
        """
        July 2024 | 2582 | 5040437
        August 2024 | 2655 | 5041160
        September 2024 | 2700 | 5042881
        October 2024 | 2762 | 5044281
        November 2024 | 2849 | 5046616
        December 2024 | 2966 | 5048654
        January 2025 | 3091 | 5049983
        February 2025 | 3207 | 5051979
        March 2025 | 3328 | 5053603
        April 2025 | 3453 | 5055526
        May 2025 | 3692 | 5058385
        June 2025 | 3807 | 5060526
        """,
    ),
)
_UPDATE_BY_KB = {u.kb: u for u in WINDOWS_UPDATES}


def kb_for(product: str, fixed_build: str) -> WindowsUpdate:
    """The first cumulative update of *product* that installs *fixed_build* or later."""
    from mdekit.emulator.defender.tvm.versions import version_key

    for update in WINDOWS_UPDATES:
        if update.product == product and version_key(update.build) >= version_key(fixed_build):
            return update
    raise LookupError(f"no update of {product} reaches {fixed_build}")


@dataclass(frozen=True)
class Affected:
    """Versions of one product a CVE affects: ``introduced <= version < fixed``."""

    vendor: str
    product: str
    fixed: str | None
    introduced: str | None = None
    kb: str | None = None  # the Windows cumulative update that fixes it (its number, no "KB")

    def covers(self, vendor: str, product: str, version: str) -> bool:
        """Whether *version* of *vendor*/*product* is in this range."""
        return (
            vendor == self.vendor
            and product == self.product
            and in_range(version, self.introduced, self.fixed)
        )

    @property
    def update(self) -> WindowsUpdate | None:
        """The fixing Windows update, if any."""
        return _UPDATE_BY_KB.get(self.kb) if self.kb else None


@dataclass(frozen=True)
class Cve:
    """One vulnerability: the public record's facts TVM shows."""

    id: str
    description: str
    cvss: float
    vector: str
    published: str  # ISO date-time, UTC
    updated: str
    exploit: str  # "active" (CISA KEV), "poc" (public proof of concept) or "none"
    affected: tuple[Affected, ...]
    exploit_types: tuple[str, ...] = ()

    @property
    def severity(self) -> str:
        """TVM's severity from the CVSS v3 score."""
        return severity_for(self.cvss)

    def affects(self, vendor: str, product: str, version: str) -> Affected | None:
        """The range covering this product version, if any."""
        for a in self.affected:
            if a.covers(vendor, product, version):
                return a
        return None


def severity_for(cvss: float) -> str:
    """CVSS v3 qualitative rating (Critical >= 9, High >= 7, Medium >= 4, else Low)."""
    if cvss >= 9.0:
        return "Critical"
    if cvss >= 7.0:
        return "High"
    if cvss >= 4.0:
        return "Medium"
    return "Low"


def _windows(fixes: dict[str, str]) -> tuple[Affected, ...]:
    """Windows ranges from the Microsoft CNA record: product -> first fixed build."""
    out = []
    for product, build in fixes.items():
        update = kb_for(product, build)
        out.append(Affected("microsoft", product, build, None, update.kb))
    return tuple(out)


_NET_RCE = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
_BROWSER = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"
_LOCAL_EOP = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"

CVES: tuple[Cve, ...] = (
    # --- Windows (Microsoft CNA records; KEV per CISA-ADP) ---
    Cve(
        "CVE-2024-38063",
        "Windows TCP/IP Remote Code Execution Vulnerability",
        9.8,
        _NET_RCE,
        "2024-08-13T17:29:58Z",
        "2025-05-21T21:06:45Z",
        "poc",
        _windows(
            {
                "windows_10": "10.0.19045.4780",
                "windows_11": "10.0.22631.4037",
                "windows_server_2019": "10.0.17763.6293",  # the record names September's build
                "windows_server_2022": "10.0.20348.2700",
            }
        ),
        ("Remote code execution",),
    ),
    Cve(
        "CVE-2024-43451",
        "NTLM Hash Disclosure Spoofing Vulnerability",
        6.5,
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:N",
        "2024-11-12T17:53:48Z",
        "2025-01-30T00:09:51Z",
        "active",
        _windows(
            {
                "windows_10": "10.0.19045.5131",
                "windows_11": "10.0.22631.4460",
                "windows_server_2019": "10.0.17763.6532",
                "windows_server_2022": "10.0.20348.2849",
            }
        ),
    ),
    Cve(
        "CVE-2024-49138",
        "Windows Common Log File System Driver Elevation of Privilege Vulnerability",
        7.8,
        _LOCAL_EOP,
        "2024-12-10T17:49:48Z",
        "2024-12-19T17:45:38Z",
        "active",
        _windows(
            {
                "windows_10": "10.0.19045.5247",
                "windows_11": "10.0.22631.4602",
                "windows_server_2019": "10.0.17763.6659",
                "windows_server_2022": "10.0.20348.2966",
            }
        ),
        ("Local privilege escalation",),
    ),
    # --- Browsers ---
    Cve(
        "CVE-2023-4863",
        "Heap buffer overflow in WebP in Google Chrome prior to 116.0.5845.187 allowed a remote attacker "
        "to perform an out of bounds memory write via a crafted HTML page.",
        8.8,  # NVD (the Chrome CNA record has no CVSS)
        _BROWSER,
        "2023-09-12T14:24:59Z",
        "2023-09-12T14:24:59Z",
        "active",
        (
            Affected("google", "chrome", "116.0.5845.187"),
            # Mozilla's fix (mfsa2023-40, referenced by the record): Firefox 117.0.1
            Affected("mozilla", "firefox", "117.0.1"),
        ),
    ),
    Cve(
        "CVE-2024-7971",
        "Type confusion in V8 in Google Chrome prior to 128.0.6613.84 allowed a remote attacker to exploit "
        "heap corruption via a crafted HTML page.",
        8.8,
        _BROWSER,
        "2024-08-21T20:20:24Z",
        "2025-10-21T22:55:46Z",
        "active",
        (Affected("google", "chrome", "128.0.6613.84"),),
    ),
    Cve(
        "CVE-2024-9680",
        "An attacker was able to achieve code execution in the content process by exploiting a "
        "use-after-free in Animation timelines.",
        9.8,
        _NET_RCE,
        "2024-10-09T12:59:07Z",
        "2026-08-04T03:55:28Z",
        "active",
        (Affected("mozilla", "firefox", "131.0.2"),),
    ),
    # --- Desktop applications ---
    Cve(
        "CVE-2025-0411",
        "7-Zip Mark-of-the-Web Bypass Vulnerability. When extracting files from a crafted archive that "
        "bears the Mark-of-the-Web, 7-Zip does not propagate the Mark-of-the-Web to the extracted files.",
        7.0,
        "CVSS:3.0/AV:L/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H",
        "2025-01-25T04:28:24Z",
        "2025-02-07T17:02:53Z",
        "active",
        (Affected("7-zip", "7-zip", "24.09"),),  # record: 24.08 affected; 24.09 is the fix
    ),
    Cve(
        "CVE-2023-38831",
        "RARLabs WinRAR before 6.23 allows attackers to execute arbitrary code when a user attempts to "
        "view a benign file within a RAR archive.",
        7.8,  # NVD; UNVERIFIED (the MITRE record has no CVSS)
        "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
        "2023-08-23T00:00:00Z",
        "2023-08-23T16:42:28Z",
        "active",
        (Affected("rarlab", "winrar", "6.23"),),
    ),
    Cve(
        "CVE-2024-32002",
        "Git's recursive clones on case-insensitive filesystems that support symlinks are susceptible to "
        "Remote Code Execution.",
        # The GitHub CNA record states 9.1 with this vector (whose base score computes to 9.0).
        9.1,
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H",
        "2024-05-14T18:40:46Z",
        "2024-05-14T18:44:50Z",
        "poc",
        (
            Affected("git-scm", "git", "2.39.4"),
            Affected("git-scm", "git", "2.40.2", "2.40.0"),
            Affected("git-scm", "git", "2.41.1", "2.41.0"),
            Affected("git-scm", "git", "2.42.2", "2.42.0"),
            Affected("git-scm", "git", "2.43.4", "2.43.0"),
            Affected("git-scm", "git", "2.44.1", "2.44.0"),
            Affected("git-scm", "git", "2.45.1", "2.45.0"),
        ),
    ),
    Cve(
        "CVE-2021-44228",
        "Apache Log4j2 2.0-beta9 through 2.15.0 (excluding security releases 2.12.2, 2.12.3, and 2.3.1) "
        "JNDI features used in configuration, log messages, and parameters do not protect against "
        "attacker controlled LDAP and other JNDI related endpoints.",
        10.0,  # NVD; UNVERIFIED (the Apache record says only "critical")
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        "2021-12-10T00:00:00Z",
        "2025-07-28T19:48:17Z",
        "active",
        (
            Affected("apache", "log4j", "2.3.1", "2.0-beta9"),
            Affected("apache", "log4j", "2.12.2", "2.4"),
            Affected("apache", "log4j", "2.15.0", "2.13.0"),
        ),
        ("Remote code execution",),
    ),
    # --- Linux / open source ---
    Cve(
        "CVE-2024-6387",
        "A security regression (CVE-2006-5051) was discovered in OpenSSH's server (sshd). There is a race "
        "condition which can lead sshd to handle some signals in an unsafe manner.",
        8.1,
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "2024-07-01T12:37:25Z",
        "2024-07-29T08:48:54Z",
        "poc",  # UNVERIFIED (public proof-of-concept code; not in KEV)
        (Affected("openbsd", "openssh", "9.8p1", "8.5p1"),),  # record: 8.5p1 <= v <= 9.7p1
    ),
    Cve(
        "CVE-2023-4911",
        "A buffer overflow was discovered in the GNU C Library's dynamic loader ld.so while processing the "
        "GLIBC_TUNABLES environment variable.",
        7.8,
        _LOCAL_EOP,
        "2023-10-03T17:25:08Z",
        "2026-02-05T17:25:54Z",
        "active",  # UNVERIFIED (KEV status not read from the record)
        (Affected("gnu", "glibc", "2.39", "2.34"),),
        ("Local privilege escalation",),
    ),
    Cve(
        "CVE-2021-3156",
        "Sudo before 1.9.5p2 contains an off-by-one error that can result in a heap-based buffer overflow, "
        "which allows privilege escalation to root.",
        7.8,  # NVD; UNVERIFIED (the MITRE record has no CVSS)
        _LOCAL_EOP,
        "2021-01-26T00:00:00Z",
        "2025-07-28T19:46:16Z",
        "active",  # UNVERIFIED (KEV status not read from the record)
        (Affected("sudo_project", "sudo", "1.9.5p2"),),
        ("Local privilege escalation",),
    ),
    Cve(
        "CVE-2024-3094",
        "Malicious code was discovered in the upstream tarballs of xz, starting with version 5.6.0.",
        10.0,
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        "2024-03-29T16:51:12Z",
        "2024-03-29T18:26:59Z",
        "poc",  # the record references a public proof of concept (xzbot)
        (Affected("tukaani", "xz", "5.6.2", "5.6.0"),),  # 5.6.0 and 5.6.1
    ),
    Cve(
        "CVE-2023-38545",
        "This flaw makes curl overflow a heap based buffer in the SOCKS5 proxy handshake.",
        9.8,  # NVD; UNVERIFIED (the curl record has no CVSS)
        _NET_RCE,
        "2023-10-18T03:52:00Z",
        "2023-10-18T03:52:00Z",
        "none",
        (Affected("haxx", "curl", "8.4.0", "7.69.0"),),
    ),
    Cve(
        "CVE-2023-38546",
        "This flaw allows an attacker to insert cookies at will into a running program using libcurl, if "
        "the specific series of conditions are met.",
        3.7,  # NVD; UNVERIFIED
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:L/A:N",
        "2023-10-18T03:51:31Z",
        "2023-10-18T03:51:31Z",
        "none",
        (Affected("haxx", "curl", "8.4.0", "7.9.1"),),
    ),
    Cve(
        "CVE-2022-3602",
        "A buffer overrun can be triggered in X.509 certificate verification, specifically in name "
        "constraint checking. Fixed in OpenSSL 3.0.7 (Affected 3.0.0-3.0.6).",
        7.5,  # NVD; UNVERIFIED (the OpenSSL record has no CVSS)
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        "2022-11-01T00:00:00Z",
        "2025-05-05T16:12:48Z",
        "none",
        (Affected("openssl", "openssl", "3.0.7", "3.0.0"),),
        ("Denial of service",),
    ),
)

CVE_BY_ID: dict[str, Cve] = {c.id.upper(): c for c in CVES}
