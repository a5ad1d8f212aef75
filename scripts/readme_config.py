"""Write the generated configuration (what 'newsletter init' writes) into the
README's Configuration section; a test keeps the two equal."""

from pathlib import Path

from newsletter import config

README = Path(__file__).resolve().parent.parent / "README.md"

text = README.read_text(encoding="utf-8")
a = text.index("## Configuration\n")
b = text.index("```toml\n", a) + len("```toml\n")
end = text.index("```", b)
README.write_text(text[:b] + config.default_toml().split("\n", 3)[3].rstrip() + "\n" + text[end:], encoding="utf-8")
print(f"updated {README}")
