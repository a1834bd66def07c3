"""Video on the command line: ``video-stats``, how much a styled video flickers. (A video is styled by ``apply``.)"""

from __future__ import annotations


def add_commands(commands) -> None:
    _video_stats_command(commands)


def _video_stats_command(commands) -> None:
    from ..optional import install_hint
    from ..video.flicker import FLOW_METHODS

    p = commands.add_parser(
        "video-stats",
        help="how much a styled video flickers: its warping error against its input (Lai et al. 2018)",
        description="Print the warping error of OUT (a styling of IN, frame by frame) and of IN itself: the optical "
        "flow between IN's frames warps each output frame onto the next, and the squared difference over the pixels "
        f"seen in both is averaged (0: no flicker). Needs OpenCV: {install_hint('video')}.",
    )
    p.add_argument("input", metavar="IN", help="the input video")
    p.add_argument("output", metavar="OUT", help="its styling, e.g. from stylize IN --network NET.pt -o OUT")
    p.add_argument("--max-frames", type=int, default=None, help="measure only the first N frames of both")
    p.add_argument(
        "--flow", choices=FLOW_METHODS, default=FLOW_METHODS[0], help="the optical flow (default: OpenCV's DIS)"
    )
    p.set_defaults(run=_video_stats)


def _video_stats(args) -> int:
    from ..video.frames import video_stats

    if args.max_frames is not None and args.max_frames < 2:
        raise ValueError(
            f"--max-frames must be at least 2 (the warping error compares consecutive frames), got {args.max_frames}"
        )
    stats = video_stats(args.input, args.output, max_frames=args.max_frames, method=args.flow)
    print(
        f"{stats['frames']} frames of {stats['width']}x{stats['height']} px; warping error (Lai et al. 2018; "
        f"{args.flow} flow, forward-backward occlusion check; [0, 1] RGB, squared, summed over channels, mean over "
        "unoccluded pixels):"
    )
    print(f"  output {args.output}: {stats['output']}")
    print(f"  input  {args.input}: {stats['input']} (the floor: noise, compression and the flow's own errors)")
    return 0
