"""Copy the third-party browser assets of the web pages into the package, from the npm registry.

Usage: python3 scripts/vendor_assets.py   (needs `npm` on PATH and access to the npm registry)

The dashboard at `/` and GraphiQL at `/graphql` must work without any network access at run time and
without Node.js at install time, so the files they load from other projects are committed under
`crm_graph/web/static/vendor/<package>-<version>/`, each folder with the package's LICENSE. This
script is how they got there and how they are updated: it fetches each pinned package with
`npm pack`, checks the tarball against the pinned integrity (the registry's sha512), extracts only the
listed files and the license, and writes `vendor/MANIFEST.json` (package, version, integrity, and
the sha256 of every file) which `tests/test_web_assets.py` checks the committed files against.

To update a package: change its version, set its integrity to "" and run the script once; it
prints the integrity it found, which you pin after reviewing the upgrade.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "crm_graph" / "web" / "static" / "vendor"

#: (npm package, version, sha512 integrity of its tarball, files to take from it). The license file
#: is always taken. GraphiQL 3.x is the last line that ships a single browser bundle (UMD) that runs
#: with React 18 from plain script tags, with no bundler.
PACKAGES = [
    ("react", "18.2.0",
     "sha512-/3IjMdb2L9QbBdWiW5e3P2/npwMBaU9mHCSCUzNln0ZCYbcfTsGbTJrU/kGemdH2IWmB2ioZ+zkxtmq6g09fGQ==",
     ["umd/react.production.min.js"]),
    ("react-dom", "18.2.0",
     "sha512-6IMTriUmvsjHUjNtEDudZfuDQUoWXVxKHhlEGSk81n4YFS+r/Kl99wXiwlVXtPBtJenozv2P+hxDsw9eA7Xo6g==",
     ["umd/react-dom.production.min.js"]),
    ("graphiql", "3.8.3",
     "sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==",
     ["graphiql.min.js", "graphiql.min.css"]),
]

LICENSE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "license")


def folder_name(package: str, version: str) -> str:
    """The vendor folder of a package version (`@scope/name` becomes `scope-name`)."""
    return f"{package.lstrip('@').replace('/', '-')}-{version}"


def integrity_of(path: Path) -> str:
    """The npm-style sha512 integrity string of a file."""
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch(package: str, version: str, workdir: Path) -> Path:
    """`npm pack` the package version into `workdir` and return the tarball."""
    result = subprocess.run(["npm", "pack", f"{package}@{version}", "--json", "--pack-destination", str(workdir)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"error: npm pack {package}@{version} failed:\n{result.stderr.strip()}")
    return workdir / json.loads(result.stdout)[0]["filename"]


def extract(tarball: Path, files: list[str], target: Path) -> list[str]:
    """Copy `files` and the license from the tarball's `package/` folder into `target`; their names."""
    taken = []
    with tarfile.open(tarball) as archive:
        names = {member.name.removeprefix("package/"): member for member in archive.getmembers() if member.isfile()}
        license_name = next((name for name in LICENSE_NAMES if name in names), None)
        if license_name is None:
            sys.exit(f"error: {tarball.name} has no license file")
        for name in [*files, license_name]:
            if name not in names:
                sys.exit(f"error: {tarball.name} has no {name}")
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.extractfile(names[name]) as source, open(destination, "wb") as out:
                shutil.copyfileobj(source, out)
            taken.append(name)
    return taken


def main() -> None:
    if shutil.which("npm") is None:
        sys.exit("error: npm is not on PATH (only this script needs it; installing crm-graph does not).")
    manifest = []
    with tempfile.TemporaryDirectory() as tmp:
        for package, version, integrity, files in PACKAGES:
            tarball = fetch(package, version, Path(tmp))
            found = integrity_of(tarball)
            if found != integrity:
                sys.exit(f"error: {package}@{version} has integrity {found}, not the pinned {integrity!r}")
            target = VENDOR / folder_name(package, version)
            shutil.rmtree(target, ignore_errors=True)
            taken = extract(tarball, files, target)
            manifest.append({
                "package": package, "version": version, "integrity": integrity, "folder": target.name,
                "files": {name: hashlib.sha256((target / name).read_bytes()).hexdigest() for name in taken},
            })
            print(f"{package}@{version}: {', '.join(taken)}")
    wanted = {entry["folder"] for entry in manifest}
    for stale in VENDOR.iterdir():
        if stale.is_dir() and stale.name not in wanted:
            shutil.rmtree(stale)
    (VENDOR / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {VENDOR.relative_to(ROOT)}/MANIFEST.json")


if __name__ == "__main__":
    main()
