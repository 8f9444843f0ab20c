#!
echo empty interpreter
