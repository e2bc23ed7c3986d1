"""Where SDK settings come from: parameter > environment > shared config file > default.

This re-implements the parts of botocore's configuration chain that decide an STS
endpoint, with the same quirks, because users set these knobs in the same places for
boto3 and for us:

* the profile is the explicit one, else ``AWS_DEFAULT_PROFILE``, else ``AWS_PROFILE``;
  a named profile that exists in neither file raises ProfileNotFound, a missing
  ``default`` profile is just empty;
* the config file is ``AWS_CONFIG_FILE`` or ``~/.aws/config`` (``[default]``,
  ``[profile x]``, ``[services x]`` sections, indented sub-sections); the credentials
  file's sections are merged into the profiles (its values win), as botocore does;
* an environment variable that is *set*, even to the empty string, ends the lookup.
"""

from __future__ import annotations

import configparser
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stsd.client.errors import ConfigParseError, InvalidConfigError, ProfileNotFound

PARAMETER = "parameter"
ENV = "env"
CONFIG = "config"
DEFAULT = "default"


def ensure_boolean(value: Any) -> bool:
    """botocore.utils.ensure_boolean: only the string "true" (any case) is true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() == "true"
    return False


def _parse_nested(value: str) -> dict[str, str]:
    parsed = {}
    for raw in value.splitlines():
        line = raw.strip()
        if not line:
            continue
        key, sep, rest = line.partition("=")
        if not sep:
            raise ValueError(f"not a key = value line: {line!r}")
        parsed[key.strip()] = rest.strip()
    return parsed


def _read_ini(path: str) -> dict[str, dict[str, Any]] | None:
    """Sections of an INI file (None if there is no such file)."""
    path = os.path.expanduser(os.path.expandvars(path))
    if not os.path.isfile(path):
        return None
    parser = configparser.RawConfigParser()
    try:
        parser.read([path])
        sections: dict[str, dict[str, Any]] = {}
        for section in parser.sections():
            values: dict[str, Any] = {}
            for option in parser.options(section):
                value = parser.get(section, option)
                # "s3 =\n  key = value" blocks become dictionaries, as in botocore.
                values[option] = _parse_nested(value) if value.startswith("\n") else value
            sections[section] = values
    except (configparser.Error, UnicodeDecodeError, ValueError):
        raise ConfigParseError(path) from None
    return sections


def _section_name(key: str) -> str | None:
    """``profile foo`` -> ``foo``; anything that is not exactly two words -> None."""
    try:
        parts = shlex.split(key)
    except ValueError:
        return None
    return parts[1] if len(parts) == 2 else None


@dataclass
class SharedConfig:
    """The merged shared config: profiles (config + credentials files) and services."""

    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, config_file: str, credentials_file: str) -> SharedConfig:
        shared = cls()
        for key, values in (_read_ini(config_file) or {}).items():
            if key.startswith("profile"):
                name = _section_name(key)
                if name is not None:
                    shared.profiles[name] = values
            elif key.startswith("services"):
                name = _section_name(key)
                if name is not None:
                    shared.services[name] = values
            elif key == "default":
                shared.profiles[key] = values
        # The credentials file names profiles without the "profile " prefix; its values
        # override the config file's for the same profile.
        for name, values in (_read_ini(credentials_file) or {}).items():
            shared.profiles.setdefault(name, {}).update(values)
        return shared


@dataclass
class ConfigSources:
    """One resolution's view of parameters, environment and shared config files."""

    env: Mapping[str, str]
    config_file: str
    credentials_file: str
    profile: str | None = None  # explicit profile (a session's ``profile=``)
    _shared: SharedConfig | None = field(default=None, repr=False)

    @classmethod
    def create(
        cls,
        *,
        env: Mapping[str, str] | None = None,
        config_file: str | os.PathLike[str] | None = None,
        credentials_file: str | os.PathLike[str] | None = None,
        profile: str | None = None,
    ) -> ConfigSources:
        environ: Mapping[str, str] = os.environ if env is None else env
        if config_file is None:
            config_file = environ.get("AWS_CONFIG_FILE", "~/.aws/config")
        if credentials_file is None:
            credentials_file = environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
        return cls(
            env=environ,
            config_file=os.fspath(config_file),
            credentials_file=os.fspath(credentials_file),
            profile=profile,
        )

    @property
    def shared(self) -> SharedConfig:
        if self._shared is None:
            self._shared = SharedConfig.load(self.config_file, self.credentials_file)
        return self._shared

    def profile_name(self) -> str | None:
        if self.profile is not None:
            return self.profile
        for var in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"):
            if var in self.env:
                return self.env[var]
        return None

    def scoped(self) -> dict[str, Any]:
        """The active profile's settings; ProfileNotFound for a named profile that is absent."""
        name = self.profile_name()
        profiles = self.shared.profiles
        if name is None:
            return profiles.get("default", {})
        if name not in profiles:
            raise ProfileNotFound(name)
        return profiles[name]

    def lookup(self, key: str, env_var: str | None, parameter: Any = None) -> tuple[Any, str]:
        """First non-None of parameter, environment variable, profile key; else (None, default)."""
        if parameter is not None:
            return parameter, PARAMETER
        if env_var is not None and env_var in self.env:
            return self.env[env_var], ENV
        value = self.scoped().get(key)
        if value is not None:
            return value, CONFIG
        return None, DEFAULT

    def configured_endpoint_url(self) -> tuple[str | None, str]:
        """botocore's configured endpoint URL chain for STS (first non-empty value wins).

        ``AWS_ENDPOINT_URL_STS``, ``AWS_ENDPOINT_URL``, the profile's ``services`` section
        (``sts = \\n endpoint_url = ...``), the profile's ``endpoint_url``; all skipped when
        ``ignore_configured_endpoint_urls`` is true.
        """
        ignore, _ = self.lookup(
            "ignore_configured_endpoint_urls", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
        )
        if ensure_boolean(ignore):
            return None, DEFAULT
        for var in ("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"):
            if self.env.get(var):
                return self.env[var], ENV
        scoped = self.scoped()
        if "services" in scoped:
            name = scoped["services"]
            section = self.shared.services.get(name) if isinstance(name, str) else None
            if not section:
                raise InvalidConfigError(
                    f"The profile is configured to use the services section but the "
                    f'"{name}" services configuration does not exist.'
                )
            sts = section.get("sts")
            if isinstance(sts, dict) and sts.get("endpoint_url"):
                return sts["endpoint_url"], CONFIG
        if scoped.get("endpoint_url"):
            return scoped["endpoint_url"], CONFIG
        return None, DEFAULT
