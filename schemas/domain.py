"""DomainSpec: what a domain collects, from where, and how its records are judged (YAML under domains/)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from schemas.errors import DomainSpecError
from schemas.record import DomainId, LangCode, SourceKind
from schemas.validation import first_problem, more_problems


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSpec(_Spec):
    """One source of a domain: a scraper kind and its parameters (validated by that scraper)."""

    kind: SourceKind
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")] | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @property
    def source_id(self) -> str:
        return self.id or self.kind


class RelevanceSpec(_Spec):
    """Weighted keywords and phrases; a record scoring below `min_score` is rejected."""

    keywords: dict[str, Annotated[float, Field(gt=0, le=10)]] = Field(default_factory=dict)
    phrases: dict[str, Annotated[float, Field(gt=0, le=10)]] = Field(default_factory=dict)
    min_score: Annotated[float, Field(ge=0, le=1)] = 0.1

    @model_validator(mode="after")
    def _has_terms(self) -> RelevanceSpec:
        if not self.keywords and not self.phrases:
            raise ValueError("give at least one keyword or phrase")
        return self


class QualitySpec(_Spec):
    """Thresholds of the quality stage for this domain."""

    min_quality: Annotated[float, Field(ge=0, le=1)] = 0.5
    min_words: Annotated[int, Field(ge=1)] = 50
    max_words: Annotated[int, Field(ge=1)] = 100_000


# Licences under which a row's text may be redistributed in a dataset (SPDX ids): free licences only, so that a
# consumer may train on and share what they pull. NC/ND licences are left out on purpose: a dataset is remixed
# (scrubbed, split, mixed) and may be used commercially. The publishing rule is scrapers.licence.
REDISTRIBUTABLE_LICENCES: frozenset[str] = frozenset({
    *(f"CC-BY-{v}" for v in ("1.0", "2.0", "2.5", "3.0", "4.0")),
    *(f"CC-BY-SA-{v}" for v in ("1.0", "2.0", "2.5", "3.0", "4.0")),
    "CC0-1.0", "CC-PDM-1.0", "PSF-2.0", "MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "Unlicense",
})
_HOST_RULE = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?"
                        r"(/[^\s?#]*)?")


def _host_rule(value: str) -> str:
    if not _HOST_RULE.fullmatch(value):
        raise ValueError(f"host rule {value!r} is not host[:port][/path-prefix] in lower case (no scheme), e.g. "
                         "'docs.python.org', '*.example.org' (with its subdomains) or '127.0.0.1:8799/site/stdlib/'")
    return value


def _free_licence(value: str) -> str:
    if value not in REDISTRIBUTABLE_LICENCES:
        raise ValueError(f"licence {value!r} is not one whose text may be redistributed; use one of "
                         f"{', '.join(sorted(REDISTRIBUTABLE_LICENCES))} (SPDX ids), or leave the host out "
                         "(its pages are then published as metadata only)")
    return value


class LicensePolicy(_Spec):
    """`allowed: null` accepts any licence; `require: true` rejects records without one. `hosts` gives the licence
    of pages on a host (`docs.python.org`, `*.example.org` for its subdomains too) that declare none themselves."""

    allowed: list[str] | None = None
    require: bool = False
    hosts: dict[Annotated[str, AfterValidator(_host_rule)], Annotated[str, AfterValidator(_free_licence)]] = \
        Field(default_factory=dict)


class DomainSpec(_Spec):
    """A domain as loaded from YAML."""

    id: DomainId
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=4000)] = ""
    languages: Annotated[list[LangCode], Field(min_length=1)] = Field(default_factory=lambda: ["en"])
    sources: Annotated[list[SourceSpec], Field(min_length=1)]
    relevance: RelevanceSpec
    quality: QualitySpec = Field(default_factory=QualitySpec)
    freshness_half_life_days: Annotated[float, Field(gt=0)] | None = None
    desirability: Annotated[float, Field(gt=0, le=10)] = 1.0
    license: LicensePolicy = Field(default_factory=LicensePolicy)
    size_cap_words: Annotated[int, Field(ge=50)] = 1000

    @model_validator(mode="after")
    def _unique_source_ids(self) -> DomainSpec:
        ids = [s.source_id for s in self.sources]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"sources share the id(s) {dupes}; give each an `id:`")
        return self

    def source(self, source_id: str) -> SourceSpec:
        for spec in self.sources:
            if spec.source_id == source_id:
                return spec
        raise DomainSpecError(f"domain {self.id!r} has no source {source_id!r}",
                              hint=f"known sources: {', '.join(s.source_id for s in self.sources)}")


def load_domain_file(path: Path) -> DomainSpec:
    """Parse one YAML spec; errors name the file, the field and the fix."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DomainSpecError(f"{path}: cannot read ({exc.strerror})", hint="check the path") from exc
    except yaml.YAMLError as exc:
        raise DomainSpecError(f"{path}: not valid YAML ({exc})".replace("\n", " "),
                              hint="fix the YAML syntax at the position shown") from exc
    if not isinstance(data, dict):
        raise DomainSpecError(f"{path}: expected a mapping with id, title, sources, relevance",
                              hint="see domains/*.yaml for the format")
    try:
        spec = DomainSpec.model_validate(data)
    except ValidationError as exc:
        raise DomainSpecError(
            f"{path}: field {first_problem(exc, top='(top level)')}{more_problems(exc)}",
            hint="fix that field; see domains/*.yaml for the format",
        ) from exc
    if path.stem != spec.id:
        raise DomainSpecError(f"{path}: id {spec.id!r} differs from the file name",
                              hint=f"rename the file to {spec.id}.yaml or change the id")
    return spec


def builtin_domains_dir() -> Path:
    """Folder of the built-in specs shipped in the `domains` package."""
    return Path(str(files("domains")))


class DomainCatalog:
    """Domains by id: built-ins first, then extra folders (a later folder overrides an earlier one)."""

    def __init__(self, specs: Iterable[DomainSpec]) -> None:
        self._specs = {s.id: s for s in specs}

    @classmethod
    def load(cls, extra_dirs: Iterable[Path] = (), *, include_builtin: bool = True) -> DomainCatalog:
        dirs = ([builtin_domains_dir()] if include_builtin else []) + [Path(d) for d in extra_dirs]
        specs: dict[str, DomainSpec] = {}
        for folder in dirs:
            if not folder.is_dir():
                raise DomainSpecError(f"domain folder {folder} does not exist",
                                      hint="create it or remove it from domain_dirs")
            for path in sorted(folder.glob("*.yaml")):
                spec = load_domain_file(path)
                specs[spec.id] = spec
        return cls(specs.values())

    def get(self, domain_id: str) -> DomainSpec:
        try:
            return self._specs[domain_id]
        except KeyError:
            raise DomainSpecError(f"unknown domain {domain_id!r}",
                                  hint=f"known domains: {', '.join(sorted(self._specs)) or '(none)'}") from None

    def ids(self) -> list[str]:
        return sorted(self._specs)

    def __iter__(self):
        return iter(self._specs[i] for i in self.ids())

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, domain_id: object) -> bool:
        return domain_id in self._specs
