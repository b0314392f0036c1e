"""Named connection profiles: tenant, client id, cloud/region and how to get the credential.

Profiles live in ``profiles.toml`` in the platform's config directory (``platformdirs``;
``MDEKIT_CONFIG_DIR`` overrides it). The file never holds a secret. A secret comes from, per
profile (``credential``):

- ``env``: an environment variable (``secret_env``, default ``AZURE_CLIENT_SECRET``);
- ``keyring``: the OS keyring (optional extra ``mdekit[keyring]``), service ``mdekit``;
- ``stdin``: read from standard input when a command runs (hidden prompt on a terminal);
- ``file``: a plaintext file, only when the user insisted; written and required to be ``0600``;
- ``certificate``: a PEM file with the private key (``certificate_path``);
- ``managed-identity``: the host's managed identity (no secret at all).

Environment variables alone work with no profile: ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``,
``AZURE_CLIENT_SECRET`` or ``AZURE_CLIENT_CERTIFICATE_PATH``, plus ``MDEKIT_CLOUD``,
``MDEKIT_REGION``, ``MDEKIT_BASE_URL``, ``MDEKIT_AUTHORITY`` and ``MDEKIT_CA_BUNDLE``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import stat
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mdekit.errors import ConfigurationError

__all__ = [
    "CREDENTIAL_KINDS",
    "Config",
    "KeyringBackend",
    "Profile",
    "check_keyring",
    "config_dir",
    "config_path",
    "delete_secret",
    "from_environment",
    "keyring_backend",
    "load",
    "read_secret",
    "save",
    "store_secret",
]

CREDENTIAL_KINDS = ("env", "keyring", "stdin", "file", "certificate", "managed-identity")
KEYRING_SERVICE = "mdekit"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class Profile:
    """One connection profile (no secret in here: only where to find it)."""

    name: str
    tenant: str = ""
    client_id: str = ""
    cloud: str = "commercial"
    region: str = ""
    base_url: str = ""
    authority: str = ""
    ca_cert: str = ""
    credential: str = "env"
    secret_env: str = "AZURE_CLIENT_SECRET"
    secret_file: str = ""
    certificate_path: str = ""

    def validate(self) -> Profile:
        """Raise ``ConfigurationError`` for a bad name or credential kind; return self."""
        if not _NAME.match(self.name):
            raise ConfigurationError(f"bad profile name {self.name!r}: use letters, digits, '.', '_' or '-'")
        if self.credential not in CREDENTIAL_KINDS:
            raise ConfigurationError(
                f"unknown credential kind {self.credential!r}; choose one of: {', '.join(CREDENTIAL_KINDS)}"
            )
        if self.credential == "certificate" and not self.certificate_path:
            raise ConfigurationError("a certificate credential needs --certificate PATH")
        return self

    def to_toml_table(self) -> dict[str, str]:
        """The fields worth writing (empty ones and the name are left out)."""
        data = dataclasses.asdict(self)
        data.pop("name")
        return {k: v for k, v in data.items() if v}

    def public(self) -> dict[str, str]:
        """What ``mde profile show`` prints: every field, never a secret (there is none here)."""
        return dataclasses.asdict(self)


@dataclass
class Config:
    """All profiles plus the name of the default one."""

    profiles: dict[str, Profile] = field(default_factory=dict)
    default: str = ""

    def get(self, name: str) -> Profile:
        """The profile called *name*; ``ConfigurationError`` naming the known ones otherwise."""
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "none yet - add one with `mde profile add`"
            raise ConfigurationError(f"no profile named {name!r} (known: {known})") from None


def config_dir() -> Path:
    """``MDEKIT_CONFIG_DIR`` or the platform's user config directory for mdekit."""
    override = os.environ.get("MDEKIT_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("mdekit", appauthor=False))


def config_path() -> Path:
    """The profiles file."""
    return config_dir() / "profiles.toml"


def load() -> Config:
    """Read the profiles file (an absent file is an empty config)."""
    path = config_path()
    if not path.exists():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from None
    known = {f.name for f in dataclasses.fields(Profile)}
    profiles: dict[str, Profile] = {}
    for name, table in (data.get("profiles") or {}).items():
        if not isinstance(table, Mapping):
            raise ConfigurationError(f"{path}: [profiles.{name}] must be a table")
        values = {k: str(v) for k, v in table.items() if k in known and k != "name"}
        profiles[name] = Profile(name=name, **values)
    return Config(profiles, str(data.get("default") or ""))


def save(config: Config) -> Path:
    """Write the profiles file atomically (0600: it names tenants and apps, if no secret)."""
    import tomli_w

    document: dict[str, Any] = {}
    if config.default:
        document["default"] = config.default
    if config.profiles:
        document["profiles"] = {n: config.profiles[n].to_toml_table() for n in sorted(config.profiles)}
    header = "# mdekit profiles - no secrets in here (see `mde profile --help`)\n"
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(path, header + tomli_w.dumps(document))
    return path


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def from_environment(env: Mapping[str, str] | None = None) -> Profile | None:
    """A profile built from ``AZURE_*`` / ``MDEKIT_*`` variables, or ``None`` if they name no app."""
    env = os.environ if env is None else env
    tenant, client = env.get("AZURE_TENANT_ID", ""), env.get("AZURE_CLIENT_ID", "")
    if not (tenant or client):
        return None
    cert = env.get("AZURE_CLIENT_CERTIFICATE_PATH", "")
    return Profile(
        name="(environment)",
        tenant=tenant,
        client_id=client,
        cloud=env.get("MDEKIT_CLOUD", "commercial"),
        region=env.get("MDEKIT_REGION", ""),
        base_url=env.get("MDEKIT_BASE_URL", ""),
        authority=env.get("MDEKIT_AUTHORITY", ""),
        ca_cert=env.get("MDEKIT_CA_BUNDLE", ""),
        credential="certificate" if cert and not env.get("AZURE_CLIENT_SECRET") else "env",
        certificate_path=cert,
    )


def _keyring() -> Any:
    try:
        import keyring
    except ImportError:
        raise ConfigurationError(
            "the OS keyring needs the optional extra: pip install 'mdekit[keyring]'"
        ) from None
    return keyring


def _keyring_user(profile: Profile) -> str:
    return f"{profile.name}:{profile.client_id}"


#: Backends that keep secrets in the operating system's protected store. Anything else (keyrings.alt's
#: file keyrings, the null and fail backends, other third-party stores) is not trusted as one.
_OS_KEYRINGS = (
    "keyring.backends.macOS",
    "keyring.backends.Windows",
    "keyring.backends.SecretService",
    "keyring.backends.libsecret",
    "keyring.backends.kwallet",
)
_NO_KEYRING = ("keyring.backends.fail", "keyring.backends.null")


@dataclass(frozen=True)
class KeyringBackend:
    """The keyring backend a secret would be stored in, and whether it is the OS keyring."""

    name: str  #: ``module.Class``
    os_keyring: bool
    where: str  #: where secrets go, in words (the OS keyring, or the file)


def keyring_backend() -> KeyringBackend:
    """The backend ``keyring`` would store a secret in now (a chainer stores in its first backend)."""
    backend = _keyring().get_keyring()
    chained = getattr(backend, "backends", None)
    if type(backend).__module__ == "keyring.backends.chainer" and chained:
        backend = chained[0]
    module, cls = type(backend).__module__, type(backend).__name__
    name = f"{module}.{cls}"
    if module.startswith(_OS_KEYRINGS):
        return KeyringBackend(name, True, "OS keyring")
    path = getattr(backend, "file_path", None)
    if path and "Plaintext" in cls:
        return KeyringBackend(name, False, f"the file {path} (base64, not encrypted)")
    return KeyringBackend(name, False, f"the file {path}" if path else f"the {name} backend")


def check_keyring(insist_plaintext: bool = False) -> KeyringBackend:
    """The backend for ``--credential keyring``; refuse one that is not the OS keyring unless insisted.

    A file keyring (keyrings.alt) is no safer than ``--credential file``, so it needs the same
    ``--insist-plaintext``; a backend that stores nothing (fail, null, an empty chain) is refused.
    """
    backend = keyring_backend()
    if backend.name.startswith(_NO_KEYRING) or backend.name.startswith("keyring.backends.chainer"):
        raise ConfigurationError(
            f"--credential keyring: no OS keyring is available (keyring backend {backend.name}); "
            "use --credential env, or --credential file --insist-plaintext"
        )
    if not backend.os_keyring and not insist_plaintext:
        raise ConfigurationError(
            f"--credential keyring: the keyring backend {backend.name} is not the OS keyring and would "
            f"keep the secret in {backend.where}; add --insist-plaintext to store it there anyway, "
            "or use --credential env"
        )
    return backend


def secret_file_path(profile: Profile) -> Path:
    """Where a plaintext secret for *profile* lives (only for ``credential = "file"``)."""
    return Path(profile.secret_file) if profile.secret_file else config_dir() / "secrets" / profile.name


def store_secret(profile: Profile, secret: str, *, insist_plaintext: bool = False) -> str:
    """Keep *secret* where the profile's credential kind says; returns a description of where.

    A keyring that is not the OS keyring is refused unless *insist_plaintext* (see :func:`check_keyring`).
    """
    if not secret.strip():
        raise ConfigurationError("empty secret")
    if profile.credential == "keyring":
        backend = check_keyring(insist_plaintext)
        _keyring().set_password(KEYRING_SERVICE, _keyring_user(profile), secret.strip())
        entry = f"service {KEYRING_SERVICE!r}, user {_keyring_user(profile)!r}"
        if backend.os_keyring:
            return f"OS keyring ({entry})"
        return f"{backend.where} by keyring backend {backend.name}, NOT the OS keyring ({entry})"
    if profile.credential == "file":
        path = secret_file_path(profile)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_private(path, secret.strip() + "\n")
        return f"{path} (mode 0600)"
    raise ConfigurationError(f"a {profile.credential!r} credential is not stored by mdekit")


def delete_secret(profile: Profile) -> None:
    """Forget a stored secret (keyring entry or plaintext file); absent is fine."""
    if profile.credential == "keyring":
        # keyring raises PasswordDeleteError when there is nothing to delete
        with contextlib.suppress(Exception):
            _keyring().delete_password(KEYRING_SERVICE, _keyring_user(profile))
    elif profile.credential == "file":
        secret_file_path(profile).unlink(missing_ok=True)


def read_secret(profile: Profile, env: Mapping[str, str] | None = None) -> str | None:
    """The client secret for *profile*, or ``None`` for certificate / managed identity.

    Raises ``ConfigurationError`` saying exactly what is missing and how to provide it.
    """
    env = os.environ if env is None else env
    kind = profile.credential
    if kind in ("certificate", "managed-identity"):
        return None
    if kind == "env":
        value = env.get(profile.secret_env or "AZURE_CLIENT_SECRET", "")
        if not value:
            var = profile.secret_env or "AZURE_CLIENT_SECRET"
            raise ConfigurationError(f"no client secret: set the environment variable {var}")
        return value
    if kind == "keyring":
        value = _keyring().get_password(KEYRING_SERVICE, _keyring_user(profile))
        if not value:
            raise ConfigurationError(
                f"no secret in the OS keyring for profile {profile.name!r}: "
                f"run `mde profile add {profile.name} ... --credential keyring` again"
            )
        return str(value)
    if kind == "file":
        return _read_secret_file(secret_file_path(profile))
    return _read_stdin_secret()


def _read_secret_file(path: Path) -> str:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigurationError(f"secret file {path} does not exist") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(f"secret file {path} is readable by others: chmod 600 {path}")
    try:
        value = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigurationError(f"secret file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read secret file {path}: {exc.strerror or exc}") from None
    if not value:
        raise ConfigurationError(f"secret file {path} is empty")
    return value


def _read_stdin_secret() -> str:
    if sys.stdin is None:
        raise ConfigurationError("the profile reads its secret from stdin, but there is none")
    if sys.stdin.isatty():
        import getpass

        value = getpass.getpass("client secret (input hidden): ")
    else:
        value = sys.stdin.readline()
    if not value.strip():
        raise ConfigurationError("no client secret on stdin")
    return value.strip()


def resolve(profile: str | Profile | None = None) -> Profile | None:
    """The profile to connect with: *profile* itself, the one named so, or the default one.

    ``None`` when no name is given and no default profile exists (use the environment then).
    """
    if isinstance(profile, Profile):
        return profile  # built by the caller (e.g. from flags or the environment)
    config = load()
    name = profile or config.default
    if not name:
        return None
    return config.get(name).validate()


def client_settings(profile: Profile) -> dict[str, Any]:
    """Client keyword arguments from *profile*: cloud, region, base URL, authority, CA trust."""
    if not profile.tenant or not profile.client_id:
        raise ConfigurationError(f"profile {profile.name!r} needs a tenant id and a client id")
    verify: Any = True
    if profile.ca_cert:
        import ssl

        try:
            verify = ssl.create_default_context(cafile=profile.ca_cert)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(f"cannot use CA bundle {profile.ca_cert}: {exc}") from None
    return {
        "cloud": profile.cloud or "commercial",
        "region": profile.region or None,
        "base_url": profile.base_url or None,
        "authority": profile.authority or None,
        "verify": verify,
    }
