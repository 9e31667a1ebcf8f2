package menu

// banner is printed once before the first prompt: MenuOS's 10 lines of
// 60 characters each, reproduced exactly (trailing spaces included).
var banner = [...]string{
	"                                                            ",
	"  *    *                                   ****       ****  ",
	" ***  ***     **        **      *    *    *    *     **     ",
	" * *  * *    *  *      *  *     *    *   *      *   **      ",
	" * *  * *   *    *    *    *    *    *   *      *    ***    ",
	" *  **  *   ******    *    *    *    *   *      *      **   ",
	" *      *   *         *    *    *    *   *      *       **  ",
	" *      *    *        *    *     *  **    *    *       **   ",
	" *      *     ***     *    *      **  *    ****     ****    ",
	"                                                            ",
}
