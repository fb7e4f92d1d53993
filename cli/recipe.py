"""The command line's recipes (docs/editing.md): `--recipe take.json` beside a take writes its recipe; with no
TEXT or --script it renders the take a recipe describes; `--revise PART` edits one part of it:

    python -m inference "A text." --out take.wav --recipe take.json        # a take and its recipe
    python -m inference --recipe take.json --revise 3 --seed 9 --out take.wav   # part 3 made anew
    python -m inference "New words." --recipe take.json --revise 3 --clip me.wav --out take.wav
    python -m inference --recipe take.json --revise 3 --action choose --variant 0 --out take.wav

Parts count from 0, as in the recipe's list. An edit writes the new recipe back to the --recipe file (the
recipe is the take's whole state); making a part anew needs the take's clips again (--clip, repeatable).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.take import read_bounded
from inference.contract.errors import InvalidRequest
from inference.contract.recipe import MAX_RECIPE_BYTES, load_recipe
from settings import Settings
from studio.revise import ACTIONS, Edit, edit_take, render_take
from studio.voice_library import VoiceLibrary


def add_recipe_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("recipes: a take rendered again or edited part by part (docs/editing.md)")
    group.add_argument("--recipe", type=Path, help="with a TEXT or --script: also write the take's recipe (.json); "
                                                   "alone: render the take it describes; with --revise: the recipe "
                                                   "to edit, rewritten with the edit")
    group.add_argument("--revise", type=int, metavar="PART", help="edit part PART of --recipe (from 0): make it anew "
                                                                  "(--seed, a TEXT for new words) or --action")
    group.add_argument("--action", choices=ACTIONS, default=None,
                       help="with --revise: regenerate (default), choose (--variant), pause (--pause seconds before "
                            "the part), delete, add (a new part after PART, -1 = first: TEXT)")
    group.add_argument("--variant", type=int, help="with --action choose: which variant of the part (from 0)")
    group.add_argument("--clip", type=Path, action="append", default=[],
                       help="the take's reference clip again, to make a part anew (repeat for a dialogue's clips)")
    group.add_argument("--part-speaker", help="with --action add in a dialogue: who speaks the new part")


def wants_recipe_edit(args: argparse.Namespace) -> bool:
    """--revise, or --recipe with nothing to speak: the take comes from a recipe, not from a text."""
    if args.revise is None and (args.action or args.variant is not None or args.clip or args.part_speaker):
        raise InvalidRequest("--action, --variant, --clip and --part-speaker go with --recipe FILE --revise PART.")
    return args.revise is not None or (args.recipe is not None and args.text is None and args.script is None)


def read_recipe(path: Path | None):
    if path is None:
        raise InvalidRequest("--revise needs the take's recipe: --recipe take.json.")
    try:
        with path.open("rb") as file:  # read no more than a recipe may hold: /dev/zero or a pipe has no size
            data = file.read(MAX_RECIPE_BYTES + 1)
    except OSError as err:
        raise InvalidRequest(f"could not read the recipe {path}: {err.strerror or err}.") from None
    if len(data) > MAX_RECIPE_BYTES:
        raise InvalidRequest(f"--recipe {path}: a recipe may be at most {MAX_RECIPE_BYTES / 1e6:.0f} MB.")
    return load_recipe(data)


def run_edit(args: argparse.Namespace, settings: Settings, engine, recipe):
    """Render or edit the --recipe take (`recipe`, as read_recipe read it); returns the result (its .recipe is the
    new recipe)."""
    if args.revise is None:
        return render_take(engine, recipe)
    text = read_bounded(sys.stdin, "the text on stdin") if args.text == "-" else args.text
    edit = Edit(part=args.revise, action=args.action or "regenerate", text=text, seed=args.seed,
                variant=args.variant, pause_s=args.pause, speaker=args.part_speaker)
    return edit_take(engine, VoiceLibrary(settings.voices_dir), recipe, edit, clips=args.clip)
