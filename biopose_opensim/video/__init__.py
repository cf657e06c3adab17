"""Video inputs and the video -> OpenSim pipeline.

Frames (a video file or a folder of images, :mod:`.frames`), 2D keypoints of one person over a clip
(:class:`.tracks.KeypointTrack`), readers of keypoint files written by other detectors (OpenPose JSON, COCO JSON:
:mod:`.keypoint_files`), and an offline MediaPipe BlazePose detector run in its own environment
(:mod:`.detector`). See docs/video.md.
"""
