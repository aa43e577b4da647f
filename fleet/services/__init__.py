"""Business operations on fleet data, named <entity>_<action>; views, admin and tasks call these."""
